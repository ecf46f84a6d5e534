/*
 * ocss: the admin command line of the ocss gateway.  Each subcommand lives in
 * its own file under cli/ and is listed in the table below.
 */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "commands.h"

struct cmd {
	const char	*name;
	int		(*fn)(int, char **);
	const char	*help;
};

static int
usage(FILE *f, const struct cmd *cmds)
{
	fprintf(f, "usage: ocss COMMAND [ARGS...]\n\ncommands:\n");
	for (; cmds->name; cmds++)
		if (cmds->fn != NULL)
			fprintf(f, "  %-12s %s\n", cmds->name, cmds->help);
	fprintf(f, "\n'ocss COMMAND --help' describes each; see ocss(1).\n");
	return f == stdout ? 0 : 2;
}

int
main(int argc, char *argv[])
{
	const struct cmd cmds[] = {
		{ "token", ocss_cmd_token,
		    "print a new random gateway token" },
		{ "config", ocss_cmd_config,
		    "check the gateway configuration" },
		{ "audit", ocss_cmd_audit,
		    "verify or follow the audit log" },
		{ "governance", ocss_cmd_governance,
		    "list, show, approve or reject held tool calls" },
		{ "scan", ocss_cmd_scan,
		    "scan skills for dangerous code" },
		{ "quarantine", ocss_cmd_quarantine,
		    "list, show, override, release or rescan quarantined "
		    "skills" },
		{ "pins", ocss_cmd_pins,
		    "pin skill files by SHA-256 and verify them" },
		{ "telegram", ocss_cmd_telegram,
		    "register or inspect the Telegram webhook" },
		{ "eval-rules", ocss_cmd_eval_rules,
		    "measure detection rules on a labelled corpus" },
		{ NULL, NULL, NULL }
	};
	const struct cmd *c;
	int		 rc;

	if (argc < 2)
		return usage(stderr, cmds);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0)
		return usage(stdout, cmds);
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0 ||
	    strcmp(argv[1], "version") == 0) {
		printf("ocss %s\n", PACKAGE_VERSION);
		return 0;
	}
	for (c = cmds; c->name; c++)
		if (c->fn != NULL && strcmp(c->name, argv[1]) == 0) {
			curl_global_init(CURL_GLOBAL_DEFAULT);
			rc = c->fn(argc - 1, argv + 1);
			curl_global_cleanup();
			return rc;
		}
	fprintf(stderr, "ocss: unknown command '%s'\n", argv[1]);
	return usage(stderr, cmds);
}
