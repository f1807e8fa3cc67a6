/* memobj_refusals: every way SYS_MEMOBJ_CREATE, SYS_MEMOBJ_MAP, SYS_MEM_GRANT and
 * SYS_MEM_PROTECT on object pages must be refused, with the exact error, and that a refusal
 * changes nothing (docs/memory-objects.md, "Errors"). Single process.
 * Expected exit status: 0.
 *   1  setup
 *   2  create: 0 pages, MEMOBJ_MAX_PAGES + 1, 2^40, ~0 -> ERR_INVAL
 *   3  handles: forged (0, 1, 0xdeadbeef, an index past the table, a live handle with bit 32
 *      set) -> ERR_BADF; deleted, and a derived copy after its parent's revoke -> ERR_STALE;
 *      an endpoint, a notification, the control capability -> ERR_TYPE; nothing mapped
 *   4  rights: without MAP, without READ (for R, and for RW with WRITE), without WRITE for RW,
 *      without EXECUTE for RX -> ERR_PERM, nothing mapped; with EXECUTE, code written through
 *      a RW mapping runs through a RX one
 *   5  bad arguments: prot 0, unknown bits, W|X (with every right) -> ERR_INVAL; addr
 *      misaligned, NULL, below USER_BASE, in the kernel, non-canonical, or the object crossing
 *      USER_TOP -> ERR_INVAL; a map just below the stack works
 *   6  overlap: an anonymous page inside the range, an object mapping over the range or part
 *      of it -> ERR_EXIST, and no page of the refused call mapped, the anonymous one intact
 *   7  grant: len 0, misaligned, in the kernel, past USER_TOP, more than MEMOBJ_MAX_PAGES
 *      pages, mode 0, 3, MOVE|SHARE -> ERR_INVAL; an unmapped range, a range with a hole ->
 *      ERR_NOENT; a range with an object page -> ERR_INVAL; every page still mapped with its
 *      contents afterwards
 *   8  protect across an anonymous page and a read-only object mapping: R allowed, RW ->
 *      ERR_PERM
 *   9  VMSPACE_OBJMAPS_MAX (512) object mappings, then ERR_NOMEM for a map and for a SHARE
 *      grant; after unmapping, maps work again */
#include "memobj_test.h"

#define FORGED_PAST_TABLE ((1u << 16) | 5000u)
#define OBJMAPS_MAX       512

static cap_t obj; /* 4 pages, every right */

static void create_args(void)
{
    test_stage = 2;
    EXPECT_EQ(sys_memobj_create(0), ERR_INVAL, "0 pages");
    EXPECT_EQ(sys_memobj_create(MEMOBJ_MAX_PAGES + 1), ERR_INVAL, "MEMOBJ_MAX_PAGES + 1 pages");
    EXPECT_EQ(sys_memobj_create(1ul << 40), ERR_INVAL, "2^40 pages");
    EXPECT_EQ(sys_memobj_create(~0ul), ERR_INVAL, "~0 pages");
}

static void handles(void)
{
    test_stage = 3;
    static const uint64_t forged[] = {0, 1, 0xdeadbeef, FORGED_PAST_TABLE};
    for (unsigned i = 0; i < sizeof forged / sizeof forged[0]; i++)
        EXPECT_EQ(sys_call4(SYS_MEMOBJ_MAP, (long)forged[i], (long)MO_SLOT(0), PROT_READ, 0),
                  ERR_BADF, "map through a forged handle");
    EXPECT_EQ(sys_call4(SYS_MEMOBJ_MAP, (long)((1ul << 32) | obj), (long)MO_SLOT(0), PROT_READ, 0),
              ERR_BADF, "a live handle with bit 32 set");

    cap_t gone = (cap_t)EXPECT_OK(sys_memobj_create(1), "memobj_create");
    EXPECT_EQ(sys_cap_delete(gone), 0, "delete it");
    EXPECT_EQ(sys_memobj_map(gone, MO_SLOT(0), PROT_READ, 0), ERR_STALE, "a deleted handle");
    cap_t child = (cap_t)EXPECT_OK(sys_cap_derive(obj, CAP_RIGHTS_ALL, 0), "derive a copy");
    EXPECT_EQ(sys_cap_revoke(obj), 1, "revoke the copy");
    EXPECT_EQ(sys_memobj_map(child, MO_SLOT(0), PROT_READ, 0), ERR_STALE, "a revoked copy");

    cap_t e = (cap_t)EXPECT_OK(sys_endpoint_create(), "endpoint_create");
    cap_t n = (cap_t)EXPECT_OK(sys_notification_create(), "notification_create");
    EXPECT_EQ(sys_memobj_map(e, MO_SLOT(0), PROT_READ, 0), ERR_TYPE, "an endpoint");
    EXPECT_EQ(sys_memobj_map(n, MO_SLOT(0), PROT_READ, 0), ERR_TYPE, "a notification");
    EXPECT_EQ(sys_memobj_map(CAP_ROOT_CONTROL, MO_SLOT(0), PROT_READ, 0), ERR_TYPE,
              "the control capability");
    EXPECT_EQ(sys_cap_delete(e), 0, "delete the endpoint");
    EXPECT_EQ(sys_cap_delete(n), 0, "delete the notification");
    EXPECT(mo_unmapped(MO_SLOT(0), 4), "the refused maps left nothing");
}

/* mov eax, 42; ret */
static const unsigned char code42[] = {0xb8, 42, 0, 0, 0, 0xc3};

static void rights(void)
{
    test_stage = 4;
    static const struct {
        unsigned rights, prot;
        const char *what;
    } refused[] = {
        {CAP_RIGHT_READ | CAP_RIGHT_WRITE, PROT_READ, "R without MAP"},
        {CAP_RIGHT_MAP, PROT_READ, "R without READ"},
        {CAP_RIGHT_MAP | CAP_RIGHT_WRITE, RW, "RW without READ"},
        {CAP_RIGHT_MAP | CAP_RIGHT_WRITE, PROT_WRITE, "W without READ"},
        {CAP_RIGHT_MAP | CAP_RIGHT_READ, RW, "RW without WRITE"},
        {CAP_RIGHT_MAP | CAP_RIGHT_READ, PROT_READ | PROT_EXEC, "RX without EXECUTE"},
        {CAP_RIGHT_MAP | CAP_RIGHT_READ | CAP_RIGHT_EXECUTE, RW, "RW without WRITE, with X"},
    };
    for (unsigned i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        cap_t c = (cap_t)EXPECT_OK(sys_cap_derive(obj, refused[i].rights, 0), "derive");
        EXPECT_EQ(sys_memobj_map(c, MO_SLOT(0), refused[i].prot, 0), ERR_PERM, refused[i].what);
        EXPECT_EQ(sys_cap_delete(c), 0, "delete the derived cap");
    }
    EXPECT(mo_unmapped(MO_SLOT(0), 4), "the refused maps left nothing");

    cap_t rx = (cap_t)EXPECT_OK(
        sys_cap_derive(obj, CAP_RIGHT_MAP | CAP_RIGHT_READ | CAP_RIGHT_EXECUTE, 0), "derive RX");
    EXPECT_EQ(sys_memobj_map(obj, MO_SLOT(0), RW, 0), 0, "map RW");
    memcpy(MO_SLOT(0), code42, sizeof code42);
    EXPECT_EQ(sys_memobj_map(rx, MO_SLOT(1), PROT_READ | PROT_EXEC, 0), 0, "map RX");
    int (*fn)(void) = (int (*)(void))MO_SLOT(1);
    EXPECT_EQ(fn(), 42, "code written through RW runs through RX");
    EXPECT_EQ(sys_mem_protect(MO_SLOT(1), PAGE_SIZE, RW), ERR_PERM, "protect the RX view RW");
    EXPECT_EQ(sys_mem_unmap(MO_SLOT(1), 4 * PAGE_SIZE), 0, "unmap RX");
    EXPECT_EQ(sys_mem_unmap(MO_SLOT(0), 4 * PAGE_SIZE), 0, "unmap RW");
    EXPECT_EQ(sys_cap_delete(rx), 0, "delete RX");
}

static void bad_arguments(void)
{
    test_stage = 5;
    static const unsigned prots[] = {0, 8, PROT_WRITE | PROT_EXEC, RW | PROT_EXEC, 0x101};
    for (unsigned i = 0; i < sizeof prots / sizeof prots[0]; i++)
        EXPECT_EQ(sys_memobj_map(obj, MO_SLOT(0), prots[i], 0), ERR_INVAL, "a bad prot");
    uint8_t *at = MO_SLOT(0);
    static const uintptr_t addrs[] = {
        0,                        /* NULL */
        0x800,                    /* below USER_BASE */
        USER_TOP,                 /* the end of user space */
        USER_TOP - PAGE_SIZE,     /* 4 pages from there cross USER_TOP */
        USER_TOP - 3 * PAGE_SIZE, /* so do these */
        0xffff800000000000ul,     /* the kernel */
        0xfffffffffffff000ul,     /* the last page of the address space */
        0x0000800000000000ul,     /* non-canonical */
    };
    EXPECT_EQ(sys_memobj_map(obj, at + 1, RW, 0), ERR_INVAL, "addr + 1");
    EXPECT_EQ(sys_memobj_map(obj, at + 8, RW, 0), ERR_INVAL, "addr + 8");
    EXPECT_EQ(sys_memobj_map(obj, at + PAGE_SIZE / 2, RW, 0), ERR_INVAL, "addr + half a page");
    for (unsigned i = 0; i < sizeof addrs / sizeof addrs[0]; i++)
        EXPECT_EQ(sys_memobj_map(obj, (void *)addrs[i], RW, 0), ERR_INVAL, "a bad address");
    EXPECT(mo_unmapped(MO_SLOT(0), 4), "the refused maps left nothing");
    /* High addresses are fine while the object fits: just below the stack's guard page. */
    EXPECT_EQ(sys_memobj_map(obj, (void *)(USER_TOP - 20 * PAGE_SIZE), PROT_READ, 0), 0,
              "a map just below the stack");
    EXPECT_EQ(sys_mem_unmap((void *)(USER_TOP - 20 * PAGE_SIZE), 4 * PAGE_SIZE), 0, "unmap it");
}

static void overlap(void)
{
    test_stage = 6;
    uint8_t *at = MO_SLOT(0);
    EXPECT_EQ(sys_mem_map(at + 2 * PAGE_SIZE, PAGE_SIZE, RW), 0, "an anonymous page");
    mo_fill(at + 2 * PAGE_SIZE, 1, 21);
    EXPECT_EQ(sys_memobj_map(obj, at, RW, 0), ERR_EXIST, "a map over it");
    EXPECT(mo_unmapped(at, 2), "pages 0-1 of the refused map are not mapped");
    EXPECT(mo_unmapped(at + 3 * PAGE_SIZE, 1), "nor page 3");
    EXPECT_EQ(mo_mismatches(at + 2 * PAGE_SIZE, 1, 21), 0, "the anonymous page is intact");
    EXPECT_EQ(sys_mem_unmap(at + 2 * PAGE_SIZE, PAGE_SIZE), 0, "unmap it");

    EXPECT_EQ(sys_memobj_map(obj, at, RW, 0), 0, "the map now");
    EXPECT_EQ(sys_memobj_map(obj, at, RW, 0), ERR_EXIST, "the same map again");
    EXPECT_EQ(sys_memobj_map(obj, at + 3 * PAGE_SIZE, RW, 0), ERR_EXIST, "a map over its end");
    EXPECT_EQ(sys_memobj_map(obj, at - PAGE_SIZE, RW, 0), ERR_EXIST, "a map over its start");
    EXPECT(mo_unmapped(at + 4 * PAGE_SIZE, 3), "nothing mapped past it");
    EXPECT(mo_unmapped(at - PAGE_SIZE, 1), "nothing mapped before it");
    EXPECT_EQ(sys_mem_map(at + PAGE_SIZE, PAGE_SIZE, RW), ERR_EXIST, "SYS_MEM_MAP over it");
    EXPECT_EQ(sys_mem_unmap(at, 4 * PAGE_SIZE), 0, "unmap it");
}

static void grants(void)
{
    test_stage = 7;
    uint8_t *at = MO_SLOT(0);
    EXPECT_EQ(sys_mem_map(at, 3 * PAGE_SIZE, RW), 0, "3 anonymous pages");
    mo_fill(at, 3, 22);
    EXPECT_EQ(sys_mem_grant(at, 0, MEM_GRANT_MOVE), ERR_INVAL, "len 0");
    EXPECT_EQ(sys_mem_grant(at + 8, PAGE_SIZE, MEM_GRANT_MOVE), ERR_INVAL, "misaligned");
    EXPECT_EQ(sys_mem_grant((void *)0xffff800000000000ul, PAGE_SIZE, MEM_GRANT_MOVE), ERR_INVAL,
              "in the kernel");
    EXPECT_EQ(sys_mem_grant((void *)(USER_TOP - PAGE_SIZE), 2 * PAGE_SIZE, MEM_GRANT_MOVE),
              ERR_INVAL, "past USER_TOP");
    EXPECT_EQ(sys_mem_grant(at, (MEMOBJ_MAX_PAGES + 1) * PAGE_SIZE, MEM_GRANT_SHARE), ERR_INVAL,
              "more than MEMOBJ_MAX_PAGES pages");
    static const unsigned modes[] = {0, 3, 4, ~0u};
    for (unsigned i = 0; i < sizeof modes / sizeof modes[0]; i++)
        EXPECT_EQ(sys_mem_grant(at, 3 * PAGE_SIZE, modes[i]), ERR_INVAL, "a bad mode");
    EXPECT_EQ(sys_mem_grant(at + 3 * PAGE_SIZE, PAGE_SIZE, MEM_GRANT_MOVE), ERR_NOENT,
              "an unmapped page");
    EXPECT_EQ(sys_mem_grant(at, 4 * PAGE_SIZE, MEM_GRANT_SHARE), ERR_NOENT,
              "a range ending in an unmapped page");
    EXPECT_EQ(sys_mem_unmap(at + PAGE_SIZE, PAGE_SIZE), 0, "punch a hole");
    EXPECT_EQ(sys_mem_grant(at, 3 * PAGE_SIZE, MEM_GRANT_MOVE), ERR_NOENT, "a range with a hole");
    EXPECT_EQ(sys_memobj_map(obj, MO_SLOT(1), RW, 0), 0, "an object mapping");
    EXPECT_EQ(sys_mem_grant(MO_SLOT(1), PAGE_SIZE, MEM_GRANT_MOVE), ERR_INVAL,
              "an object's page, MOVE");
    EXPECT_EQ(sys_mem_grant(MO_SLOT(1), 4 * PAGE_SIZE, MEM_GRANT_SHARE), ERR_INVAL,
              "an object's pages, SHARE");
    EXPECT_EQ(mo_mismatches(at, 1, 22), 0, "page 0 is still ours, intact");
    EXPECT_EQ(((volatile uint64_t *)at)[2 * PAGE_WORDS + 5], mo_word(22, 2 * PAGE_WORDS + 5),
              "so is page 2");
    EXPECT_EQ(sys_mem_unmap(MO_SLOT(1), 4 * PAGE_SIZE), 0, "unmap the object");
    EXPECT_EQ(sys_mem_unmap(at, 3 * PAGE_SIZE), 0, "unmap the rest");
}

static void protect_mixed(void)
{
    test_stage = 8;
    uint8_t *at = MO_SLOT(0);
    cap_t ro = (cap_t)EXPECT_OK(sys_cap_derive(obj, CAP_RIGHT_MAP | CAP_RIGHT_READ, 0), "derive R");
    EXPECT_EQ(sys_mem_map(at, PAGE_SIZE, RW), 0, "an anonymous page");
    EXPECT_EQ(sys_memobj_map(ro, at + PAGE_SIZE, PROT_READ, 0), 0, "a read-only object after it");
    EXPECT_EQ(sys_mem_protect(at, 5 * PAGE_SIZE, PROT_READ), 0, "protect both R");
    EXPECT_EQ(sys_mem_protect(at, 5 * PAGE_SIZE, RW), ERR_PERM, "protect both RW");
    EXPECT_EQ(sys_mem_protect(at, 6 * PAGE_SIZE, PROT_READ), ERR_NOENT, "one page too many");
    EXPECT_EQ(sys_mem_protect(at, PAGE_SIZE, RW), 0, "the anonymous page alone RW");
    EXPECT_EQ(sys_mem_unmap(at, 5 * PAGE_SIZE), 0, "unmap both");
    EXPECT_EQ(sys_cap_delete(ro), 0, "delete R");
}

static void too_many_mappings(void)
{
    test_stage = 9;
    cap_t one = (cap_t)EXPECT_OK(sys_memobj_create(1), "a 1-page object");
    uint8_t *at = MO_SLOT(0);
    for (unsigned i = 0; i < OBJMAPS_MAX; i++)
        EXPECT_EQ(sys_memobj_map(one, at + i * PAGE_SIZE, PROT_READ, 0), 0, "map it again");
    EXPECT_EQ(sys_memobj_map(one, at + OBJMAPS_MAX * PAGE_SIZE, PROT_READ, 0), ERR_NOMEM,
              "one object mapping too many");
    uint8_t *anon = MO_SLOT(1);
    EXPECT_EQ(sys_mem_map(anon, PAGE_SIZE, RW), 0, "an anonymous page");
    EXPECT_EQ(sys_mem_grant(anon, PAGE_SIZE, MEM_GRANT_SHARE), ERR_NOMEM,
              "a SHARE grant, one mapping too many");
    long moved =
        EXPECT_OK(sys_mem_grant(anon, PAGE_SIZE, MEM_GRANT_MOVE), "a MOVE grant needs no mapping");
    EXPECT_EQ(sys_cap_delete((cap_t)moved), 0, "delete it");
    EXPECT_EQ(sys_mem_unmap(at, OBJMAPS_MAX * PAGE_SIZE), 0, "unmap them all at once");
    EXPECT_EQ(sys_memobj_map(one, at, PROT_READ, 0), 0, "a map works again");
    EXPECT_EQ(sys_mem_unmap(at, PAGE_SIZE), 0, "unmap it");
    EXPECT_EQ(sys_cap_delete(one), 0, "delete the object");
}

int main(void)
{
    test_name = "memobj_refusals";
    test_stage = 1;
    obj = (cap_t)EXPECT_OK(sys_memobj_create(4), "memobj_create 4 pages");

    create_args();
    handles();
    rights();
    bad_arguments();
    overlap();
    grants();
    protect_mixed();
    too_many_mappings();

    EXPECT_EQ(sys_cap_delete(obj), 0, "delete the object");
    printf("memobj_refusals: every refusal has its error and changed nothing\n");
    return 0;
}
