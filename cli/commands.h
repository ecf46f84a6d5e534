/* Subcommands of ocss(1), one per file under cli/. */
#ifndef OCSS_COMMANDS_H
#define OCSS_COMMANDS_H

int	ocss_cmd_token(int argc, char **argv);
int	ocss_cmd_config(int argc, char **argv);
int	ocss_cmd_audit(int argc, char **argv);
int	ocss_cmd_scan(int argc, char **argv);
int	ocss_cmd_eval_rules(int argc, char **argv);
int	ocss_cmd_governance(int argc, char **argv);
int	ocss_cmd_quarantine(int argc, char **argv);
int	ocss_cmd_pins(int argc, char **argv);
int	ocss_cmd_telegram(int argc, char **argv);

/*
 * Where the quarantine commands (scan --quarantine, quarantine, pins) find
 * their state, shared through cli/quarantine.c.  Paths come from the
 * options, else OCSS_STATE_DIR / OCSS_CONF_DIR / AUDIT_LOG_PATH, else the
 * compiled defaults; the gateway's secrets are not needed.
 */
struct ocss_store;
struct ocss_qenv {
	const char		*prog;		/* "ocss quarantine" */
	char			*state_dir;
	char			*conf_dir;
	char			*export_path;	/* the plugin's list */
	char			*audit_path;
	char			*pins_path;
	struct ocss_store	*st;		/* after ocss_qenv_open */
};
/* Any argument may be NULL (then the environment or default). 0 or -1. */
int	ocss_qenv_init(struct ocss_qenv *, const char *prog,
	    const char *state_dir, const char *conf_dir,
	    const char *export_path, const char *pins_path);
int	ocss_qenv_open(struct ocss_qenv *);	/* the store; 0 or -1 */
void	ocss_qenv_free(struct ocss_qenv *);
/* Write the export file and say so on stderr; 0 or -1. */
int	ocss_qenv_export(struct ocss_qenv *);
/* Audit one decision about skill name (extra: JSON members or NULL). */
int	ocss_qenv_audit(struct ocss_qenv *, const char *event,
	    const char *decision, const char *name, const char *reason,
	    const char *extra);
/* Audit what ocss_quarantine_record() decided (result: an enum
 * ocss_quarantine_result): quarantined or released.  0 or -1. */
struct ocss_quarantine_rec;
int	ocss_qenv_recorded(struct ocss_qenv *,
	    const struct ocss_quarantine_rec *, int result);

#endif
