/*
 * CUnit runner for every libocss suite.  Prints CUnit's summary and a final
 * "unit: N passed, N failed" line that tests/run-all.sh adds up.
 * Usage: unit-tests [SUITE...]   (no argument: all suites)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "suites.h"

CU_pSuite
ocss_test_suite(const char *name)
{
	CU_pSuite s;

	if ((s = CU_add_suite(name, NULL, NULL)) == NULL) {
		fprintf(stderr, "CU_add_suite: %s\n", CU_get_error_msg());
		exit(2);
	}
	return s;
}

void
ocss_test_add(CU_pSuite s, const char *name, CU_TestFunc fn)
{
	if (CU_add_test(s, name, fn) == NULL) {
		fprintf(stderr, "CU_add_test: %s\n", CU_get_error_msg());
		exit(2);
	}
}

struct entry {
	const char	*name;
	void		(*reg)(void);
};

#define OCSS_ENTRY(n) { #n, suite_##n },
static const struct entry entries[] = { OCSS_SUITES(OCSS_ENTRY) };

int
main(int argc, char *argv[])
{
	unsigned int passed, failed;
	size_t	 i;
	int	 j, want;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	for (i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
		want = argc < 2;
		for (j = 1; j < argc; j++)
			if (strcmp(argv[j], entries[i].name) == 0)
				want = 1;
		if (want)
			entries[i].reg();
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed();
	passed = CU_get_number_of_tests_run() - failed;
	printf("unit: %u passed, %u failed\n", passed, failed);
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
