/*
 * Pins: per-file SHA-256, changed / added / missing detection, the file
 * format round trip and the atomic write.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pins.h"
#include "suites.h"

static char pdir[64];

static void
put(const char *rel, const char *s)
{
	char	 p[256];
	FILE	*f;

	snprintf(p, sizeof(p), "%s/%s", pdir, rel);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f = fopen(p, "w"));
	fputs(s, f);
	fclose(f);
}

static void
setup(void)
{
	char	 p[256];

	snprintf(pdir, sizeof(pdir), "/tmp/ocss-pins-XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(pdir));
	snprintf(p, sizeof(p), "%s/skill", pdir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/skill/lib", pdir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/skill/node_modules", pdir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/skill/.git", pdir);
	mkdir(p, 0755);
	put("skill/index.js", "console.log(1);\n");
	put("skill/lib/a.js", "module.exports = 2;\n");
	put("skill/node_modules/x.js", "ignored\n");
	put("skill/.git/HEAD", "ignored\n");
	put("skill/README.md", "hello\n");
}

static void
test_add_verify(void)
{
	struct ocss_pins	*ps;
	struct ocss_pins_result	 r;
	struct ocss_err		 e;
	char			 skill[128], p[256];

	setup();
	snprintf(skill, sizeof(skill), "%s/skill", pdir);
	ps = ocss_pins_parse("", 0, "empty", &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ps);
	CU_ASSERT_EQUAL(ocss_pins_add(ps, "s", skill, "alice",
	    1700000000000LL, &e), 0);
	CU_ASSERT_EQUAL(ocss_pins_count(ps), 1);
	/* index.js, lib/a.js, README.md: not .git, not node_modules. */
	CU_ASSERT_EQUAL(ocss_pins_nfiles(ps, 0), 3);
	CU_ASSERT_STRING_EQUAL(ocss_pins_pinned_at(ps, 0),
	    "2023-11-14T22:13:20Z");
	CU_ASSERT_EQUAL(ocss_pins_verify(ps, "s", &r, &e), 0);
	ocss_pins_result_free(&r);
	CU_ASSERT_EQUAL(ocss_pins_verify(ps, "nope", &r, &e), -1);
	ocss_pins_result_free(&r);

	/* Files the pin ignores may change freely. */
	put("skill/node_modules/x.js", "changed\n");
	CU_ASSERT_EQUAL(ocss_pins_verify(ps, "s", &r, &e), 0);
	ocss_pins_result_free(&r);

	/* One changed, one added, one missing. */
	put("skill/lib/a.js", "module.exports = 3;\n");
	put("skill/new.js", "x\n");
	snprintf(p, sizeof(p), "%s/skill/README.md", pdir);
	unlink(p);
	CU_ASSERT_EQUAL(ocss_pins_verify(ps, "s", &r, &e), 1);
	CU_ASSERT_EQUAL_FATAL(r.nchanged, 1);
	CU_ASSERT_STRING_EQUAL(r.changed[0], "lib/a.js");
	CU_ASSERT_EQUAL_FATAL(r.nadded, 1);
	CU_ASSERT_STRING_EQUAL(r.added[0], "new.js");
	CU_ASSERT_EQUAL_FATAL(r.nmissing, 1);
	CU_ASSERT_STRING_EQUAL(r.missing[0], "README.md");
	ocss_pins_result_free(&r);

	/* A symbolic link is pinned by its target, not followed. */
	CU_ASSERT_EQUAL(ocss_pins_add(ps, "s", skill, NULL, 0, &e), 0);
	snprintf(p, sizeof(p), "%s/skill/link.js", pdir);
	CU_ASSERT_EQUAL(symlink("/etc/hostname", p), 0);
	CU_ASSERT_EQUAL(ocss_pins_verify(ps, "s", &r, &e), 1);
	CU_ASSERT_EQUAL(r.nadded, 1);
	ocss_pins_result_free(&r);

	/* The whole skill gone: every file missing. */
	CU_ASSERT_EQUAL(ocss_pins_add(ps, "gone", skill, NULL, 0, &e), 0);
	snprintf(p, sizeof(p), "mv '%s/skill' '%s/moved'", pdir, pdir);
	CU_ASSERT_EQUAL(system(p), 0);
	CU_ASSERT_EQUAL(ocss_pins_verify(ps, "gone", &r, &e), 1);
	CU_ASSERT_EQUAL(r.nmissing, 4);
	ocss_pins_result_free(&r);
	CU_ASSERT_EQUAL(ocss_pins_add(ps, "x", skill, NULL, 0, &e), -1);
	CU_ASSERT_EQUAL(ocss_pins_remove(ps, "gone"), 0);
	CU_ASSERT_EQUAL(ocss_pins_remove(ps, "gone"), 1);
	ocss_pins_free(ps);
}

static int
count_dir(const char *dir)
{
	DIR		*d = opendir(dir);
	struct dirent	*de;
	int		 n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void
test_save_load(void)
{
	struct ocss_pins	*ps, *back;
	struct ocss_pins_result	 r;
	struct ocss_err		 e;
	struct stat		 st;
	char			 file[256], sub[128], skill[128];

	if (pdir[0] == '\0')
		setup();
	snprintf(skill, sizeof(skill), "%s/moved", pdir);
	snprintf(sub, sizeof(sub), "%s/conf", pdir);
	mkdir(sub, 0755);
	snprintf(file, sizeof(file), "%s/skill-pins.json", sub);
	/* A missing file is an empty set. */
	CU_ASSERT_PTR_NOT_NULL_FATAL(ps = ocss_pins_load(file, &e));
	CU_ASSERT_EQUAL(ocss_pins_count(ps), 0);
	CU_ASSERT_EQUAL(ocss_pins_add(ps, "zeta \"q\"", skill, "bob", 0, &e),
	    0);
	CU_ASSERT_EQUAL(ocss_pins_add(ps, "alpha", skill, NULL, 0, &e), 0);
	CU_ASSERT_EQUAL(ocss_pins_save(ps, file, &e), 0);
	/* Atomic write: only the file itself is left, mode 0644. */
	CU_ASSERT_EQUAL(count_dir(sub), 1);
	CU_ASSERT_EQUAL(stat(file, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0644);
	CU_ASSERT_PTR_NOT_NULL_FATAL(back = ocss_pins_load(file, &e));
	CU_ASSERT_EQUAL(ocss_pins_count(back), 2);
	CU_ASSERT_STRING_EQUAL(ocss_pins_name(back, 0), "alpha");
	CU_ASSERT_STRING_EQUAL(ocss_pins_name(back, 1), "zeta \"q\"");
	CU_ASSERT_STRING_EQUAL(ocss_pins_pinned_by(back, 1), "bob");
	CU_ASSERT_STRING_EQUAL(ocss_pins_sha256(back, 0),
	    ocss_pins_sha256(ps, 0));
	CU_ASSERT_EQUAL(ocss_pins_nfiles(back, 0), ocss_pins_nfiles(ps, 0));
	CU_ASSERT_EQUAL(ocss_pins_verify(back, "alpha", &r, &e), 0);
	ocss_pins_result_free(&r);
	/* Saving into a directory that does not exist fails cleanly. */
	CU_ASSERT_EQUAL(ocss_pins_save(ps, "/nonexistent/d/p.json", &e), -1);
	ocss_pins_free(back);
	ocss_pins_free(ps);
}

static void
test_parse_errors(void)
{
	struct ocss_pins	*ps;
	struct ocss_pins_result	 r;
	struct ocss_err		 e;
	static const char	 bad[] = "{\"s\": {\"files\": {\"a\": \"xyz\"}}}";
	static const char	 old[] = "{\"s\": {\"sha256\": \""
	    "0000000000000000000000000000000000000000000000000000000000000000"
	    "\"}}";

	CU_ASSERT_PTR_NULL(ocss_pins_parse("{", 1, "t", &e));
	CU_ASSERT_PTR_NULL(ocss_pins_parse("[]", 2, "t", &e));
	CU_ASSERT_PTR_NULL(ocss_pins_parse("{\"s\": 1}", 8, "t", &e));
	CU_ASSERT_PTR_NULL(ocss_pins_parse(bad, strlen(bad), "t", &e));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, ".s.files.a"));
	/* The older single-checksum format loads, but asks for a re-pin. */
	CU_ASSERT_PTR_NOT_NULL_FATAL(ps = ocss_pins_parse(old, strlen(old),
	    "t", &e));
	CU_ASSERT_EQUAL(ocss_pins_verify(ps, "s", &r, &e), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "pins add"));
	ocss_pins_result_free(&r);
	ocss_pins_free(ps);
}

static void
test_cleanup(void)
{
	char	 cmd[128];

	if (pdir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pdir);
		CU_ASSERT_EQUAL(system(cmd), 0);
	}
}

void
suite_pins(void)
{
	CU_pSuite s = ocss_test_suite("pins");

	ocss_test_add(s, "add, verify: changed, added, missing, links",
	    test_add_verify);
	ocss_test_add(s, "save atomically, load back", test_save_load);
	ocss_test_add(s, "parse errors, older format", test_parse_errors);
	ocss_test_add(s, "cleanup", test_cleanup);
}
