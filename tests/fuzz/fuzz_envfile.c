/* libFuzzer: arbitrary bytes as the env file through the configuration
 * loader (the environment is cleared of the variables it reads). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static char	 path[64];
	struct ocss_config c;
	struct ocss_err	 err;
	FILE		*f;

	if (path[0] == '\0') {
		snprintf(path, sizeof(path), "/tmp/ocss-fuzz-env-%ld",
		    (long)getpid());
		unsetenv("OPENCLAW_TOKEN");
		unsetenv("OCSS_ENV_FILE");
	}
	if ((f = fopen(path, "w")) == NULL)
		return 0;
	fwrite(data, 1, len, f);
	fclose(f);
	if (ocss_config_load(&c, path, &err) == 0) {
		if (c.token == NULL || strlen(c.token) < 16 || c.max_body == 0)
			abort();
		ocss_config_free(&c);
	} else if (err.msg[0] == '\0')
		abort();	/* every refusal says why */
	return 0;
}
