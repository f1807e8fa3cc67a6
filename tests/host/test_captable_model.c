/* Randomized model check of kernel/cap/captable.c: 200,000 operations with a fixed seed on three
 * small tables, each against a reference model kept here in the plainest form (flat arrays,
 * parent indices, linear scans). After every operation the result code,
 * any handle issued, the objects that died, and the whole state (every slot, its parent,
 * generations, reference counts, table counters) must match the model, and the table's own
 * consistency walk must pass. Half the slots of table 0 start near the last generation so that
 * retirement happens in the run. */
#include "captable_fixture.h"

enum { NT = 3, MAXCAP = 40, NOBJ = 24, POOL = 64, OPS = 200000 };
static const uint32_t cap_of[NT] = {8, 16, MAXCAP};

struct mslot {
    bool live;
    uint16_t gen; /* 0: retired */
    int obj;
    unsigned rights;
    uint64_t badge;
    int pt, pi; /* parent's table and index; pt < 0 for a root */
};

static struct tbl tb[NT];
static struct mslot ms[NT][MAXCAP];
static uint32_t nfree[NT];
static struct obj objs[NOBJ];
static uint32_t mrefs[NOBJ];
static int mtype[NOBJ];
static int pending_deaths;
static struct {
    int t;
    cap_handle_t h;
} pool[POOL];
static uint64_t rng = 0x2545F4914F6CDD1Dull;

static uint32_t below(uint32_t n)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (uint32_t)((rng * 0x2545F4914F6CDD1Dull) >> 32) % n;
}

static cap_handle_t mhandle(int t, uint32_t i)
{
    return ((cap_handle_t)ms[t][i].gen << CAP_INDEX_BITS) | i;
}

static int mlookup(int t, cap_handle_t h, unsigned type, unsigned rights, uint32_t *idx)
{
    uint32_t i = cap_handle_index(h);
    if (i >= cap_of[t] || cap_handle_gen(h) == 0)
        return ERR_BADF;
    if (!ms[t][i].live || ms[t][i].gen != cap_handle_gen(h))
        return ERR_STALE;
    if (type != CAP_TYPE_ANY && mtype[ms[t][i].obj] != (int)type)
        return ERR_TYPE;
    if ((ms[t][i].rights & rights) != rights)
        return ERR_PERM;
    *idx = i;
    return 0;
}

/* Which free slot the table picks is its own business (FIFO, so revoke's order shows; the unit
 * tests check it): the model takes the slot from the handle, if that slot was free under that
 * generation. */
static bool mfill(int t, cap_handle_t got, int obj, unsigned rights, uint64_t badge, int pt,
                  int pi)
{
    uint32_t i = cap_handle_index(got);
    if (i >= cap_of[t] || ms[t][i].live || ms[t][i].gen == 0 || got != mhandle(t, i))
        return false;
    nfree[t]--;
    ms[t][i] = (struct mslot){true, ms[t][i].gen, obj, rights, badge, pt, pi};
    int k = (int)below(POOL);
    pool[k].t = below(10) ? t : (int)below(NT); /* now and then a handle of another table */
    pool[k].h = got;
    return true;
}

static void mrelease(int t, uint32_t i)
{
    ms[t][i].live = false;
    if (ms[t][i].gen == CAP_GEN_MAX) {
        ms[t][i].gen = 0;
        return;
    }
    ms[t][i].gen++;
    nfree[t]++;
}

static void mput(int obj)
{
    if (--mrefs[obj] == 0)
        pending_deaths++;
}

static void mreparent(int t, uint32_t i, int nt, int ni)
{
    for (int u = 0; u < NT; u++)
        for (uint32_t j = 0; j < cap_of[u]; j++)
            if (ms[u][j].live && ms[u][j].pt == t && ms[u][j].pi == (int)i) {
                ms[u][j].pt = nt;
                ms[u][j].pi = ni;
            }
}

static void mdelete(int t, uint32_t i)
{
    mreparent(t, i, ms[t][i].pt, ms[t][i].pi);
    mput(ms[t][i].obj);
    mrelease(t, i);
}

static bool mdescends(int t, uint32_t i, int at, uint32_t ai)
{
    for (int pt = ms[t][i].pt, pi = ms[t][i].pi; pt >= 0;) {
        if (pt == at && pi == (int)ai)
            return true;
        const struct mslot *p = &ms[pt][pi];
        pt = p->pt;
        pi = p->pi;
    }
    return false;
}

static int mrevoke(int t, uint32_t i)
{
    bool victim[NT][MAXCAP] = {{false}};
    int n = 0;
    for (int u = 0; u < NT; u++)
        for (uint32_t j = 0; j < cap_of[u]; j++)
            victim[u][j] = ms[u][j].live && mdescends(u, j, t, i);
    for (int u = 0; u < NT; u++)
        for (uint32_t j = 0; j < cap_of[u]; j++)
            if (victim[u][j]) {
                mput(ms[u][j].obj);
                mrelease(u, j);
                n++;
            }
    return n;
}

/* An operand: a live handle, a remembered one (often stale), or a forged one. */
static cap_handle_t pick(int *t)
{
    uint32_t r = below(100);
    *t = (int)below(NT);
    if (r < 50) {
        uint32_t i = below(cap_of[*t]);
        if (ms[*t][i].live)
            return mhandle(*t, i);
    }
    if (r < 90) {
        int k = (int)below(POOL);
        *t = pool[k].t;
        return pool[k].h;
    }
    return r < 93 ? 0 : r < 96 ? below(UINT32_MAX) : ((below(4) << CAP_INDEX_BITS) | below(48));
}

static unsigned pick_rights(unsigned have)
{
    uint32_t r = below(10);
    return r < 7 ? have & below(256) : r < 9 ? below(256) : 0x100 | below(256);
}

static bool state_matches(void)
{
    for (int t = 0; t < NT; t++) {
        uint32_t nlive = 0, nretired = 0;
        if (cap_table_check(&tb[t].t) != 0)
            return false;
        for (uint32_t i = 0; i < cap_of[t]; i++) {
            const struct mslot *m = &ms[t][i];
            const struct cap_slot *s = &tb[t].slots[i];
            nlive += m->live;
            nretired += m->gen == 0;
            if (s->gen != m->gen || (s->obj != NULL) != m->live)
                return false;
            if (!m->live)
                continue;
            const struct cap_slot *parent = m->pt < 0 ? NULL : &tb[m->pt].slots[m->pi];
            if (s->handle != mhandle(t, i) || s->obj != &objs[m->obj].hdr ||
                s->rights != m->rights || s->badge != m->badge || s->parent != parent)
                return false;
        }
        if (tb[t].t.live != nlive || tb[t].t.retired != nretired)
            return false;
    }
    for (int o = 0; o < NOBJ; o++)
        if (objs[o].hdr.refs != mrefs[o])
            return false;
    return true;
}

enum { OP_INSERT, OP_DELETE, OP_DERIVE, OP_TRANSFER, OP_REVOKE, OP_LOOKUP, OP_CLEAR, NOPS };
static const int codes[] = {0, ERR_BADF, ERR_STALE, ERR_TYPE, ERR_PERM, ERR_INVAL, ERR_NOSPC,
                            ERR_ALREADY};
enum { NCODES = sizeof(codes) / sizeof(codes[0]) };
static long seen[NOPS][NCODES];

static int code_col(int rc)
{
    for (int c = 0; c < NCODES; c++)
        if (codes[c] == rc)
            return c;
    return 0;
}

static bool setup(void)
{
    for (int t = 0; t < NT; t++) {
        if (tbl_init(&tb[t], cap_of[t]) != 0)
            return false;
        nfree[t] = cap_of[t];
        for (uint32_t i = 0; i < cap_of[t]; i++) {
            ms[t][i] = (struct mslot){.gen = 1};
        }
    }
    for (uint32_t i = 0; i < cap_of[0] / 2; i++) /* as if churned close to the end */
        ms[0][i].gen = tb[0].slots[i].gen = (uint16_t)(CAP_GEN_MAX - 100 - 50 * i);
    for (int o = 0; o < NOBJ; o++) {
        mtype[o] = 1 + (int)below(CAP_TYPE_COUNT - 1);
        obj_init(&objs[o], (enum cap_type)mtype[o]);
        mrefs[o] = 0;
    }
    for (int k = 0; k < POOL; k++)
        pool[k].t = (int)below(NT);
    return true;
}

TEST(cap_model_random_ops)
{
    long revoked = 0, moved = 0, deaths = 0;
    CHECK(setup());
    for (long op = 0; op < OPS; op++) {
        uint32_t r = below(1000), i = 0;
        int kind = r < 150 ? OP_INSERT : r < 300 ? OP_DELETE : r < 500 ? OP_DERIVE
                 : r < 650 ? OP_TRANSFER : r < 720 ? OP_REVOKE : r < 999 ? OP_LOOKUP : OP_CLEAR;
        int t, dt = (int)below(NT), want, rc;
        cap_handle_t h = pick(&t), got = 0;
        struct cap_object *dead = NULL;
        const struct cap_slot *s = NULL;

        switch (kind) {
        case OP_INSERT: {
            int o = (int)below(NOBJ);
            unsigned rights = pick_rights(CAP_RIGHTS_ALL);
            uint64_t badge = below(2) ? 0 : 1 + below(1000);
            want = rights > CAP_RIGHTS_ALL ? ERR_INVAL : nfree[t] == 0 ? ERR_NOSPC : 0;
            rc = cap_insert(&tb[t].t, &objs[o].hdr, rights, badge, &got);
            if (want == 0) {
                mrefs[o]++;
                CHECK(mfill(t, got, o, rights, badge, -1, -1));
            }
            break;
        }
        case OP_DELETE:
            want = mlookup(t, h, CAP_TYPE_ANY, 0, &i);
            rc = cap_delete(&tb[t].t, h, &dead);
            if (want == 0)
                mdelete(t, i);
            break;
        case OP_DERIVE: {
            want = mlookup(t, h, CAP_TYPE_ANY, 0, &i);
            const struct mslot *m = &ms[t][i];
            unsigned rights = pick_rights(want == 0 ? m->rights : 0);
            uint64_t badge = below(10) < 7 ? 0 : 1 + below(1000);
            if (want == 0)
                want = rights > CAP_RIGHTS_ALL          ? ERR_INVAL
                       : (rights & ~m->rights) != 0      ? ERR_PERM
                       : badge != 0 && m->badge != 0     ? ERR_ALREADY
                       : nfree[dt] == 0                   ? ERR_NOSPC
                                                         : 0;
            rc = cap_derive(&tb[t].t, h, &tb[dt].t, rights, badge, &got);
            if (want == 0) {
                mrefs[m->obj]++;
                CHECK(mfill(dt, got, m->obj, rights, badge ? badge : m->badge, t, (int)i));
            }
            break;
        }
        case OP_TRANSFER: {
            unsigned carrier = below(256);
            enum cap_xfer mode = below(50) == 0 ? (enum cap_xfer)2
                                 : below(2)     ? CAP_XFER_MOVE
                                                : CAP_XFER_COPY;
            want = !(carrier & CAP_RIGHT_GRANT) ? ERR_PERM : mlookup(t, h, CAP_TYPE_ANY, 0, &i);
            if (want == 0)
                want = mode > CAP_XFER_MOVE ? ERR_INVAL : nfree[dt] == 0 ? ERR_NOSPC : 0;
            rc = cap_transfer(&tb[t].t, h, carrier, &tb[dt].t, mode, &got);
            if (want != 0)
                break;
            struct mslot m = ms[t][i];
            if (mode == CAP_XFER_COPY) {
                mrefs[m.obj]++;
                CHECK(mfill(dt, got, m.obj, m.rights, m.badge, t, (int)i));
                break;
            }
            CHECK(mfill(dt, got, m.obj, m.rights, m.badge, m.pt, m.pi));
            mreparent(t, i, dt, (int)cap_handle_index(got));
            mrelease(t, i);
            moved++;
            break;
        }
        case OP_REVOKE:
            want = mlookup(t, h, CAP_TYPE_ANY, 0, &i);
            rc = cap_revoke(&tb[t].t, h);
            if (want == 0) {
                want = mrevoke(t, i);
                revoked += want;
            }
            break;
        case OP_LOOKUP: {
            unsigned type = below(2) ? CAP_TYPE_ANY : below(CAP_TYPE_COUNT);
            unsigned rights = below(2) ? 0 : below(512) & below(512);
            want = mlookup(t, h, type, rights, &i);
            rc = cap_lookup(&tb[t].t, h, (enum cap_type)type, rights, &s);
            if (want == 0)
                CHECK(s == &tb[t].slots[i]);
            break;
        }
        default:
            for (uint32_t j = 0; j < cap_of[t]; j++)
                if (ms[t][j].live)
                    mdelete(t, j);
            cap_table_clear(&tb[t].t, &dead);
            want = rc = 0;
            break;
        }
        CHECK_EQ(rc, want);
        seen[kind][code_col(rc)]++;

        /* Objects whose last capability went away are destroyed and come back as new ones. */
        int n = 0;
        for (; dead; n++) {
            int o = (int)((struct obj *)dead - objs);
            dead = dead->next_dead;
            objs[o].hdr.listed = 0;
            if (objs[o].hdr.refs) { /* closed: its last RECEIVE or SEND capability went */
                CHECK(objs[o].hdr.recv_refs == 0 || objs[o].hdr.send_refs == 0);
                n--;
                continue;
            }
            CHECK_EQ(mrefs[o], 0);
            mtype[o] = 1 + (int)below(CAP_TYPE_COUNT - 1);
            obj_init(&objs[o], (enum cap_type)mtype[o]);
        }
        CHECK_EQ(n, pending_deaths);
        deaths += n;
        pending_deaths = 0;
        if (!state_matches()) {
            check_fail(__FILE__, __LINE__, "state differs from the model after op %ld", op);
            return;
        }
    }

    /* The run reached every outcome that matters, not just the common ones. */
    static const struct {
        int kind, rc;
    } must[] = {
        {OP_INSERT, 0},          {OP_INSERT, ERR_INVAL},   {OP_INSERT, ERR_NOSPC},
        {OP_DELETE, 0},          {OP_DELETE, ERR_BADF},    {OP_DELETE, ERR_STALE},
        {OP_DERIVE, 0},          {OP_DERIVE, ERR_STALE},   {OP_DERIVE, ERR_INVAL},
        {OP_DERIVE, ERR_PERM},   {OP_DERIVE, ERR_ALREADY}, {OP_DERIVE, ERR_NOSPC},
        {OP_TRANSFER, 0},        {OP_TRANSFER, ERR_PERM},  {OP_TRANSFER, ERR_STALE},
        {OP_TRANSFER, ERR_INVAL}, {OP_TRANSFER, ERR_NOSPC}, {OP_REVOKE, ERR_STALE},
        {OP_LOOKUP, 0},          {OP_LOOKUP, ERR_BADF},    {OP_LOOKUP, ERR_STALE},
        {OP_LOOKUP, ERR_TYPE},   {OP_LOOKUP, ERR_PERM},    {OP_CLEAR, 0},
    };
    for (size_t k = 0; k < sizeof(must) / sizeof(must[0]); k++)
        CHECK(seen[must[k].kind][code_col(must[k].rc)] > 0);
    uint32_t retired = 0;
    for (uint32_t j = 0; j < cap_of[0]; j++)
        retired += ms[0][j].gen == 0;
    CHECK_EQ(retired, cap_of[0] / 2);
    CHECK(revoked > 1000 && moved > 1000 && deaths > 1000);

    struct cap_object *dead = NULL;
    for (int t = 0; t < NT; t++) {
        cap_table_clear(&tb[t].t, &dead);
        CHECK_EQ(cap_table_check(&tb[t].t), 0);
    }
    int left = 0;
    for (int o = 0; o < NOBJ; o++)
        left += mrefs[o] != 0;
    CHECK_EQ(reap(&dead), left);
    for (int t = 0; t < NT; t++)
        tbl_fini(&tb[t]);
}
