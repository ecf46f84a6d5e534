#include "suites.h"

void
suite_webhook(void)
{
	(void)ocss_test_suite("webhook");
}
