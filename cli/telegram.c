#include <stdio.h>

#include "commands.h"

int
ocss_cmd_telegram(int argc, char **argv)
{
	(void)argc; (void)argv;
	fprintf(stderr, "ocss telegram: not yet\n");
	return 2;
}
