/* Unit tests: compact JSON text as json_dumps writes it (common/jsonw.c). */
#include <config.h>

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/jsonw.h"
#include "tests/unit/unit.h"

/* Asserts jsonw_dump(V) is json_dumps(V, JSON_COMPACT) (both NULL, or the same bytes). */
static void
same(json_t *v)
{
	char	*ref = json_dumps(v, JSON_COMPACT), *got;
	size_t	 len = 0;

	got = jsonw_dump(v, 0, &len);
	if (ref == NULL)
		ck_assert_ptr_null(got);
	else {
		ck_assert_msg(got != NULL, "jansson wrote %s", ref);
		ck_assert_str_eq(got, ref);
		ck_assert_uint_eq(len, strlen(ref));
	}
	free(ref);
	free(got);
}

START_TEST(test_fixed)
{
	json_t	*o, *a;
	char	 all[32], *s;
	size_t	 i, len;

	o = json_object();
	same(o);
	json_decref(o);
	a = json_array();
	same(a);
	json_decref(a);
	o = json_pack("{s:s, s:i, s:b, s:b, s:n, s:[], s:{}, s:f, s:f, s:f}",
	    "text", "Open Gov Week \"2027\" \\ / é ✓ 😀", "n", -42,
	    "t", 1, "f", 0, "null", "empty", "obj", "pi", 3.14159,
	    "big", 1e300, "tenth", 0.1);
	ck_assert_ptr_nonnull(o);
	json_object_set_new(o, "max", json_integer(INT64_MAX));
	json_object_set_new(o, "min", json_integer(INT64_MIN));
	json_object_set_new(o, "key \"with\"\n\tescapes/é", json_true());
	for (i = 0; i < 31; i++)
		all[i] = (char)(i + 1);
	all[31] = '\0';
	json_object_set_new(o, "controls", json_string(all));
	json_object_set_new(o, "del", json_string("a\x7f" "b"));
	json_object_set_new(o, "nul", json_stringn("a\0b", 3));
	same(o);
	/* Keys come out in the order they were set, as jansson dumps them. */
	json_object_set_new(o, "aaa", json_integer(1));
	json_object_del(o, "text");
	json_object_set_new(o, "text", json_string("last now"));
	same(o);
	/* A newline on request; the text is the same before it. */
	s = jsonw_dump(o, 1, &len);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_gt(len, 1);
	ck_assert_int_eq(s[len - 1], '\n');
	ck_assert_int_eq(s[len], '\0');
	free(s);
	json_decref(o);

	a = json_array();
	for (i = 0; i < 100; i++)
		json_array_append_new(a, json_pack("{s:i, s:[i, s]}", "i",
		    (int)i, "v", (int)i * 7, "x"));
	same(a);
	json_decref(a);
}
END_TEST

/* What json_dumps refuses, jsonw_dump refuses too: text that is not UTF-8. */
START_TEST(test_not_utf8)
{
	static const char *bad[] = {
		"\x80", "a\xc0\xaf", "\xc3", "\xe0\x80\xaf", "\xed\xa0\x80",
		"\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "ok\xff", "\xe2\x82",
	};
	json_t	*o;
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o = json_object();
		json_object_set_new(o, "text", json_stringn_nocheck(bad[i],
		    strlen(bad[i])));
		same(o);
		json_decref(o);
	}
	/* The edges that are valid. */
	o = json_pack("{s:s, s:s, s:s}", "a", "\xc2\x80", "b",
	    "\xef\xbf\xbf", "c", "\xf4\x8f\xbf\xbf");
	same(o);
	json_decref(o);
}
END_TEST

/*
 * A key that is not UTF-8: jansson 2.14 ignores the failure of a key's
 * dump and writes broken JSON (an unterminated key); refused here.
 */
START_TEST(test_bad_key)
{
	json_t	*o = json_object();
	size_t	 len;

	json_object_setn_new_nocheck(o, "a\xc3", 2, json_true());
	ck_assert_ptr_null(jsonw_dump(o, 1, &len));
	json_decref(o);
}
END_TEST

static uint64_t	rng = 88172645463325252ULL;

/* xorshift64: the same trees on every run. */
static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (rng);
}

/* A random string of up to 12 bytes, often not UTF-8. */
static json_t *
rand_string(void)
{
	static const char *pieces[] = { "a", "Z", " ", "\"", "\\", "/",
	    "\n", "\x01", "\x1f", "\x7f", "é", "✓", "😀", "\x80", "\xc3",
	    "\xed\xa0\x80", "\xf0\x9f", "" };
	char	 s[64];
	size_t	 n = 0, k = next() % 8, i;

	for (i = 0; i < k; i++) {
		const char *p = pieces[next() % (sizeof(pieces) / sizeof(pieces[0]))];

		memcpy(s + n, p, strlen(p));
		n += strlen(p);
	}
	return (json_stringn_nocheck(s, n));
}

/* A random tree DEPTH levels deep at most. */
static json_t *
rand_tree(int depth)
{
	json_t	*v, *k;
	size_t	 n, i;

	switch (next() % (depth > 0 ? 8 : 6)) {
	case 0:	return (rand_string());
	case 1:	return (json_integer((json_int_t)next()));
	case 2:	return (json_real((double)(int64_t)next() / 1e6));
	case 3:	return (json_boolean(next() % 2));
	case 4:	return (json_null());
	case 5:	return (json_integer((json_int_t)(next() % 1000) - 500));
	case 6:
		v = json_array();
		n = next() % 5;
		for (i = 0; i < n; i++)
			json_array_append_new(v, rand_tree(depth - 1));
		return (v);
	default:
		v = json_object();
		n = next() % 5;
		for (i = 0; i < n; i++) {
			/* Keys are UTF-8 (see test_bad_key). */
			k = rand_string();
			if (json_string_setn(k, json_string_value(k),
			    json_string_length(k)) == -1)
				json_string_set(k, "plain");
			json_object_setn_new_nocheck(v, json_string_value(k),
			    json_string_length(k), rand_tree(depth - 1));
			json_decref(k);
		}
		return (v);
	}
}

/* Thousands of random trees: the same bytes as jansson, or both refuse. */
START_TEST(test_random)
{
	json_t	*o;
	int	 i;

	for (i = 0; i < 5000; i++) {
		o = json_object();
		json_object_set_new(o, "t", rand_tree(5));
		same(o);
		json_decref(o);
	}
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("jsonw");
	TCase	*tc = tcase_create("jsonw");

	tcase_add_test(tc, test_fixed);
	tcase_add_test(tc, test_not_utf8);
	tcase_add_test(tc, test_bad_key);
	tcase_add_test(tc, test_random);
	suite_add_tcase(s, tc);
	return (unit_run(s, 1));
}
