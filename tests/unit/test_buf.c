#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "suites.h"

static void
test_append_grow(void)
{
	struct ocss_buf b = OCSS_BUF_INIT;
	int	 i;

	for (i = 0; i < 1000; i++)
		CU_ASSERT_EQUAL_FATAL(ocss_buf_puts(&b, "abc"), 0);
	CU_ASSERT_EQUAL(b.len, 3000);
	CU_ASSERT_EQUAL(b.data[b.len], '\0');
	CU_ASSERT(memcmp(b.data + 2997, "abc", 3) == 0);
	ocss_buf_free(&b);
	CU_ASSERT_PTR_NULL(b.data);
}

static void
test_json_escape(void)
{
	struct ocss_buf b = OCSS_BUF_INIT;

	CU_ASSERT_EQUAL(ocss_buf_json_str(&b, "a\"b\\c\n\x01", 7), 0);
	CU_ASSERT_STRING_EQUAL(b.data, "a\\\"b\\\\c\\n\\u0001");
	ocss_buf_reset(&b);
	/* Valid UTF-8 kept, invalid bytes become U+FFFD. */
	CU_ASSERT_EQUAL(ocss_buf_json_str(&b, "\xc3\xa9\xff\xc0\xaf", 5), 0);
	CU_ASSERT_STRING_EQUAL(b.data,
	    "\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	ocss_buf_reset(&b);
	/* A surrogate encoded in UTF-8 is invalid too. */
	CU_ASSERT_EQUAL(ocss_buf_json_str(&b, "\xed\xa0\x80", 3), 0);
	CU_ASSERT_STRING_EQUAL(b.data,
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	ocss_buf_free(&b);
}

static void
test_printf_steal(void)
{
	struct ocss_buf b = OCSS_BUF_INIT;
	char	*s;

	CU_ASSERT_EQUAL(ocss_buf_printf(&b, "%d-%s", 42, "x"), 0);
	s = ocss_buf_steal(&b);
	CU_ASSERT_STRING_EQUAL(s, "42-x");
	CU_ASSERT_PTR_NULL(b.data);
	free(s);
}

void
suite_buf(void)
{
	CU_pSuite s = ocss_test_suite("buf");

	ocss_test_add(s, "append grows", test_append_grow);
	ocss_test_add(s, "json escape and utf-8 repair", test_json_escape);
	ocss_test_add(s, "printf and steal", test_printf_steal);
}
