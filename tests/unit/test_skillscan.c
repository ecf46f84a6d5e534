#include "skillscan.h"
#include "suites.h"
void suite_skillscan(void) { (void)ocss_test_suite("skillscan"); }
