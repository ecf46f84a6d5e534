#include "suites.h"
void suite_pins(void) { }
