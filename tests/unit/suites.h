/* Each tests/unit/test_*.c defines one register function listed here. */
#ifndef OCSS_TEST_SUITES_H
#define OCSS_TEST_SUITES_H

#include <CUnit/CUnit.h>

/* Register a suite; abort the run when CUnit itself fails. */
CU_pSuite	ocss_test_suite(const char *name);
void		ocss_test_add(CU_pSuite, const char *name, CU_TestFunc);

#define OCSS_SUITES(X) \
	X(buf) \
	X(path) \
	X(auth) \
	X(config) \
	X(request) \
	X(audit) \
	X(store) \
	X(token) \
	X(governance) \
	X(skillscan) \
	X(normalize) \
	X(rules) \
	X(sanitize) \
	X(rscan) \
	X(quarantine) \
	X(pins) \
	X(webhook)

#define OCSS_DECLARE(n) void suite_##n(void);
OCSS_SUITES(OCSS_DECLARE)
#undef OCSS_DECLARE

#endif
