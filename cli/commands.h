/* Subcommands of ocss(1), one per file under cli/. */
#ifndef OCSS_COMMANDS_H
#define OCSS_COMMANDS_H

int	ocss_cmd_token(int argc, char **argv);
int	ocss_cmd_config(int argc, char **argv);
int	ocss_cmd_audit(int argc, char **argv);
int	ocss_cmd_scan(int argc, char **argv);
int	ocss_cmd_eval_rules(int argc, char **argv);
int	ocss_cmd_governance(int argc, char **argv);

#endif
