/* Host tests for bench/libbench: benchmark selection (filters, name order, duplicates), names
 * known to another harness (names_elsewhere, defer_unknown), error reporting (unknown names,
 * failing benchmarks, an invalid environment) and registration through the lb_benchmarks
 * section. Fixtures are in libbench_fake.h. */
#include "libbench_fake.h"

/* ---- tests ----------------------------------------------------------------------------- */

static const struct lb_benchmark *const greek[] = {&b_a1, &b_a2, &b_beta, &b_gamma};

static int run_greek(const char *filter)
{
    return lb_run_list(&env, filter, greek, 4);
}

TEST(filter_selects_all)
{
    const char *alls[] = {NULL, "", "all", "*", "all,beta", ",,all,"};
    for (size_t i = 0; i < sizeof(alls) / sizeof(alls[0]); i++) {
        setup(64);
        env.repetitions = 1;
        CHECK_EQ(run_greek(alls[i]), 0);
        for (int k = 0; k < 4; k++)
            CHECK(runs[k] > 0);
        CHECK(json_valid(out));
    }
    HAS(out, "\"filter\": \",,all,\"");
    /* each benchmark is its own family, numbered in run order */
    HAS(entry("gamma/x", 0), "\"family_index\": 3,", "\"per_family_instance_index\": 0,");
}

TEST(filter_globs)
{
    setup(64);
    CHECK_EQ(run_greek("alpha/*"), 0);
    CHECK(runs[0] && runs[1] && !runs[2] && !runs[3]);
    HAS(entry("alpha/2", 0), "\"family_index\": 1,");

    setup(64);
    CHECK_EQ(run_greek("?eta,*/x"), 0);
    CHECK(!runs[0] && !runs[1] && runs[2] && runs[3]);
    HAS(entry("beta", 0), "\"family_index\": 0,");

    setup(64);
    CHECK_EQ(run_greek("a*a/?"), 0);
    CHECK(runs[0] && runs[1] && !runs[2] && !runs[3]);

    setup(64);
    env.repetitions = 2;
    CHECK_EQ(run_greek("alpha/1,alpha/*,alpha/1"), 0); /* overlapping elements: runs once */
    CHECK_EQ(count(out, "\"name\": \"alpha/1\","), 2);
    CHECK_EQ(count(out, "\"name\": \"alpha/1_mean\","), 1);
}

TEST(filter_unknown_reported_rest_run)
{
    setup(64);
    CHECK_EQ(run_greek("beta,nope,g?mma/*,zzz*,beta?"), 3);
    CHECK(!runs[0] && !runs[1] && runs[2] && runs[3]);
    CHECK_EQ(nerrs, 3);
    CHECK_STR(errs, "bench: unknown benchmark 'nope' (known: alpha/1, alpha/2, beta, gamma/x)\n"
                    "bench: no benchmark matches 'zzz*' (known: alpha/1, alpha/2, beta, gamma/x)\n"
                    "bench: no benchmark matches 'beta?' (known: alpha/1, alpha/2, beta, "
                    "gamma/x)\n");
    CHECK(json_valid(out));
    CHECK_EQ(count(out, "\"run_type\": \"iteration\""), 2 * LB_DEFAULT_REPETITIONS);

    setup(64);
    CHECK_EQ(lb_run_list(&env, "x", NULL, 0), 1);
    CHECK_STR(errs, "bench: unknown benchmark 'x' (known: none)\n");
    CHECK(json_valid(out));
}

/* One filter over two harnesses: names registered elsewhere are known, not run. */
TEST(names_elsewhere_are_known)
{
    setup(64);
    env.names_elsewhere = "yield/same_as,,syscall/null,alpha/0";
    CHECK_EQ(run_greek("syscall/null"), 0);
    CHECK(!runs[0] && !runs[1] && !runs[2] && !runs[3]);
    CHECK(json_valid(out));
    CHECK_EQ(count(out, "\"run_type\""), 0);

    setup(64);
    env.names_elsewhere = "yield/same_as,syscall/null";
    CHECK_EQ(run_greek("beta,yield/*,s?scall/null"), 0);
    CHECK(!runs[0] && !runs[1] && runs[2] && !runs[3]);

    setup(64);
    env.names_elsewhere = "yield/same_as,,syscall/null,alpha/0";
    CHECK_EQ(run_greek("nosuch,zz*,beta"), 2);
    CHECK(runs[2] > 0);
    CHECK_STR(errs, "bench: unknown benchmark 'nosuch' (known: alpha/0, alpha/1, alpha/2, beta, "
                    "gamma/x, syscall/null, yield/same_as)\n"
                    "bench: no benchmark matches 'zz*' (known: alpha/0, alpha/1, alpha/2, beta, "
                    "gamma/x, syscall/null, yield/same_as)\n");

    setup(64);
    env.names_elsewhere = "a";
    CHECK_EQ(lb_run_list(&env, "x", NULL, 0), 1);
    CHECK_STR(errs, "bench: unknown benchmark 'x' (known: a)\n");
}

TEST(defer_unknown_leaves_errors_to_the_last_harness)
{
    setup(64);
    env.defer_unknown = true;
    CHECK_EQ(run_greek("nosuch,beta,zz*"), 0);
    CHECK_EQ(nerrs, 0);
    CHECK(runs[2] > 0 && !runs[0]);
    CHECK(json_valid(out));
}

TEST(name_registered_on_both_sides_is_a_duplicate)
{
    setup(64);
    env.names_elsewhere = "zeta,beta";
    CHECK_EQ(run_greek("x"), 2);
    CHECK_STR(errs, "bench: duplicate benchmark name 'beta' (also registered elsewhere)\n"
                    "bench: unknown benchmark 'x' (known: alpha/1, alpha/2, beta, gamma/x, zeta)\n");
}

TEST(error_message_cut_at_limit)
{
    enum { N = 100 }; /* "benchmark_NN, " times N is past LB_ERROR_MAX */
    static char names[N][24];
    static struct lb_benchmark many[N];
    const struct lb_benchmark *list[N];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof(names[i]), "benchmark_%02u", (unsigned)i % 100);
        many[i] = (struct lb_benchmark){.name = names[i], .fn = bm_tag};
        list[i] = &many[i];
    }
    setup(64);
    CHECK_EQ(lb_run_list(&env, "benchmark_00,bogus", list, N), 1);
    CHECK_EQ(strlen(errs), LB_ERROR_MAX); /* LB_ERROR_MAX - 1 characters and the newline */
    CHECK(strncmp(errs, "bench: unknown benchmark 'bogus' (known: benchmark_00, ", 55) == 0);
    CHECK(strcmp(errs + LB_ERROR_MAX - 4, "...\n") == 0);
}

TEST(runs_in_name_order)
{
    const struct lb_benchmark *list[] = {&b_gamma, &b_beta, &b_a2, &b_a1};
    setup(64);
    env.repetitions = 1;
    CHECK_EQ(lb_run_list(&env, "*,x", list, 4), 1);
    CHECK_STR(errs, "bench: unknown benchmark 'x' (known: alpha/1, alpha/2, beta, gamma/x)\n");
    HAS(entry("alpha/1", 0), "\"family_index\": 0,");
    HAS(entry("alpha/2", 0), "\"family_index\": 1,");
    HAS(entry("beta", 0), "\"family_index\": 2,");
    HAS(entry("gamma/x", 0), "\"family_index\": 3,");
    CHECK(strstr(out, "\"alpha/1\"") < strstr(out, "\"gamma/x\""));
}

TEST(duplicate_names)
{
    static const struct lb_benchmark beta2 = BENCH("beta", bm_tag, 4);
    const struct lb_benchmark *list[] = {&b_beta, &b_a1, &beta2};
    setup(64);
    CHECK_EQ(lb_run_list(&env, "beta", list, 3), 1);
    CHECK_STR(errs, "bench: duplicate benchmark name 'beta'\n");
    CHECK(runs[2] && runs[4] && !runs[0]);
}

TEST(benchmark_failures)
{
    setup(64);
    const struct lb_benchmark *list[] = {&b_fail, &b_nothing, &b_twice, &b_rebatch, &b_a1};
    CHECK_EQ(lb_run_list(&env, NULL, list, 5), 4);
    CHECK_STR(errs, "bench: 'fail' failed: out of frames\n"
                    "bench: 'nothing' recorded no samples (lb_stop never called)\n"
                    "bench: 'rebatch' changed its batch size (now 2)\n"
                    "bench: 'twice' recorded more samples than iterations (395 dropped)\n");
    CHECK_EQ(runs[7], 0);
    CHECK_EQ(count(out, "\"name\": \"fail"), 0);
    CHECK_EQ(count(out, "\"name\": \"nothing"), 0);
    CHECK(runs[0] > 0); /* the rest still ran */
    HAS(entry("alpha/1", 0), "\"family_index\": 0,"); /* name order, not table order */
    HAS(entry("rebatch", 0), "\"family_index\": 3,");
    CHECK(json_valid(out));
}

TEST(invalid_env)
{
    setup(64);
    env.out = NULL;
    CHECK_EQ(run1(&b_cost, NULL), 1);
    CHECK_STR(errs, "bench: no output sink\n");
    CHECK_EQ(calls, 0);

    setup(64);
    env.capacity = 0;
    env.repetitions = LB_MAX_REPETITIONS + 1;
    CHECK_EQ(run1(&b_cost, NULL), 2);
    CHECK_EQ(out_len, 0);
    CHECK_EQ(calls, 0);

    setup(64);
    env.error = NULL; /* errors are still counted */
    CHECK_EQ(run1(&b_cost, "nope"), 1);
    CHECK_EQ(lb_run_list(NULL, NULL, NULL, 0), 1);
}

/* ---- registration through the lb_benchmarks section ------------------------------------ */

static void bm_registered(struct lb_state *s)
{
    runs[5 + lb_arg(s)]++;
    while (lb_next(s))
        lb_stop(s, lb_start(s));
}

LB_BENCHMARK("reg/one", bm_registered, "K-1", "registered through the section");
LB_BENCHMARK_ARG("reg/two", bm_registered, 1, NULL, "the same function with another arg");

TEST(registration_section)
{
    size_t n;
    const struct lb_benchmark *const *reg = lb_registry(&n);
    CHECK_EQ(n, 2);
    size_t one = strcmp(reg[0]->name, "reg/one") == 0 ? 0 : 1; /* section order: toolchain's */
    CHECK_STR(reg[one]->name, "reg/one");
    CHECK_STR(reg[one]->target, "K-1");
    CHECK_STR(reg[1 - one]->name, "reg/two");
    CHECK_EQ(reg[1 - one]->arg, 1);
    setup(64);
    env.repetitions = 1;
    CHECK_EQ(lb_run(&env, "reg/*"), 0);
    CHECK(runs[5] > 0 && runs[6] > 0);
    HAS(entry("reg/one", 0), "\"target\": \"K-1\",");
    setup(64);
    CHECK_EQ(lb_run(&env, "nope"), 1);
    CHECK_STR(errs, "bench: unknown benchmark 'nope' (known: reg/one, reg/two)\n");
}
