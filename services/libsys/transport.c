/* The transport registry, the connect handshake every transport shares, and the address space
 * and IPC buffers connections use (docs/transport.md). */
#include "transport.h"

/* Weak so that a program linking no transport still links (the table is then empty). */
extern const struct transport_ops *const __start_transports[] __attribute__((weak));
extern const struct transport_ops *const __stop_transports[] __attribute__((weak));

/* The top half of the SYS_MEM_MAP window: programs place their own mappings from its bottom
 * (docs/abi.md, "Address space"), connections from here up. */
#define TRANSPORT_VA_BASE 0x0000180000000000ul

static size_t table(const struct transport_ops *const **out)
{
    if (!__start_transports || !__stop_transports) {
        *out = NULL;
        return 0;
    }
    *out = __start_transports;
    return (size_t)(__stop_transports - __start_transports);
}

const struct transport_ops *transport_find(const char *name)
{
    const struct transport_ops *const *t;
    size_t n = table(&t);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(t[i]->name, name))
            return t[i];
    return NULL;
}

/* Sorted by name so that messages read the same whatever order the linker met the files in. */
const char *transport_names(char *buf, size_t size)
{
    const struct transport_ops *const *t;
    size_t n = table(&t), len = 0;
    const char *prev = NULL;
    if (!size)
        return buf;
    buf[0] = '\0';
    for (;;) {
        const char *next = NULL;
        for (size_t i = 0; i < n; i++)
            if ((!prev || strcmp(t[i]->name, prev) > 0) && (!next || strcmp(t[i]->name, next) < 0))
                next = t[i]->name;
        if (!next)
            return buf;
        for (const char *s = prev ? ", " : ""; *s && len + 1 < size; s++)
            buf[len++] = *s;
        for (const char *s = next; *s && len + 1 < size; s++)
            buf[len++] = *s;
        buf[len] = '\0';
        prev = next;
    }
}

/* The value of `key` in "k=v;k=v" copied into val (NUL-terminated, cut to size); false when
 * the key is absent. */
static bool arg_value(const char *args, const char *key, char *val, size_t size)
{
    size_t klen = strlen(key);
    for (const char *p = args; p && *p;) {
        const char *end = p;
        while (*end && *end != ';')
            end++;
        if ((size_t)(end - p) > klen && !strncmp(p, key, klen) && p[klen] == '=') {
            size_t n = 0;
            for (const char *v = p + klen + 1; v < end && n + 1 < size; v++)
                val[n++] = *v;
            val[n] = '\0';
            return true;
        }
        p = *end ? end + 1 : end;
    }
    return false;
}

int transport_config_parse(const char *args, struct transport_config *cfg)
{
    char val[TRANSPORT_NAME_MAX];
    cfg->ncpus = 1;
    if (arg_value(args, "ncpus", val, sizeof val)) {
        unsigned n = 0;
        for (const char *s = val; *s >= '0' && *s <= '9' && n < 1000; s++)
            n = n * 10 + (unsigned)(*s - '0');
        cfg->ncpus = n ? n : 1;
    }
    cfg->ops = transport_find(arg_value(args, "ipc", val, sizeof val) ? val : TRANSPORT_DEFAULT);
    return cfg->ops ? 0 : ERR_NOENT;
}

void transport_name_pack(const char *name, uint64_t out[2])
{
    char bytes[TRANSPORT_NAME_MAX] = {0};
    size_t n = strlen(name);
    memcpy(bytes, name, n < sizeof bytes - 1 ? n : sizeof bytes - 1);
    memcpy(out, bytes, sizeof bytes);
}

void *transport_va_reserve(size_t bytes)
{
    static uint64_t next = TRANSPORT_VA_BASE;
    /* A guard page between reservations: an overrun faults instead of reaching a neighbour. */
    uint64_t size = ((bytes + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)) + PAGE_SIZE;
    uint64_t at = __atomic_fetch_add(&next, size, __ATOMIC_RELAXED);
    return at + size <= USER_MAP_END ? (void *)at : NULL;
}

int transport_map_exact(cap_t obj, void *va, size_t pages, unsigned prot)
{
    size_t bytes = pages * PAGE_SIZE;
    uint8_t *fence = (uint8_t *)va + bytes;
    /* Nothing tells the size of an object the peer sent. A bigger one would spill past the
     * reservation over the guard page and into whatever gets placed there later: a page mapped
     * just past the agreed end makes SYS_MEMOBJ_MAP refuse it (ERR_EXIST, nothing mapped). */
    long r = sys_mem_map(fence, PAGE_SIZE, PROT_READ);
    if (r < 0)
        return (int)r;
    r = sys_memobj_map(obj, va, prot, 0);
    sys_mem_unmap(fence, PAGE_SIZE);
    if (r == ERR_EXIST)
        return ERR_RANGE;
    if (r < 0)
        return (int)r;
    /* A smaller one would fault this side on its first access past its end: SYS_MEM_PROTECT
     * refuses a range with an unmapped page, so it proves every agreed page is there. */
    if (sys_mem_protect(va, bytes, prot)) {
        sys_mem_unmap(va, bytes);
        return ERR_RANGE;
    }
    return 0;
}

int transport_map_object(cap_t obj, size_t pages, void **out)
{
    void *va = transport_va_reserve(pages * PAGE_SIZE);
    if (!va)
        return ERR_NOMEM;
    int err = transport_map_exact(obj, va, pages, PROT_READ | PROT_WRITE);
    if (!err)
        *out = va;
    return err;
}

int transport_ipcbuf_setup(struct transport *t)
{
    void *page = transport_va_reserve(PAGE_SIZE);
    if (!page)
        return ERR_NOMEM;
    long err = sys_mem_map(page, PAGE_SIZE, PROT_READ | PROT_WRITE);
    if (!err && (err = sys_ipc_buffer(page)))
        sys_mem_unmap(page, PAGE_SIZE);
    t->ipcbuf = err ? NULL : page;
    return (int)err;
}

void transport_ipcbuf_release(struct transport *t)
{
    if (!t->ipcbuf)
        return;
    sys_ipc_buffer(NULL);
    sys_mem_unmap(t->ipcbuf, PAGE_SIZE);
    t->ipcbuf = NULL;
}

int transport_own_setup(struct transport *t)
{
    t->own = NULL;
    t->own_bytes = 0;
    t->out = NULL;
    if (t->ops->buffer)
        return 0;
    size_t bytes = (t->ops->max_payload + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    uint8_t *va = transport_va_reserve(2 * bytes);
    if (!va)
        return ERR_NOMEM;
    long err = sys_mem_map(va, 2 * bytes, PROT_READ | PROT_WRITE);
    if (err)
        return (int)err;
    t->own = va;
    t->own_bytes = bytes;
    return 0;
}

void transport_own_release(struct transport *t)
{
    if (t->own)
        sys_mem_unmap(t->own, 2 * t->own_bytes);
    t->own = NULL;
    t->out = NULL;
}

void transport_close(struct transport *t)
{
    t->ops->close(t);
    transport_own_release(t);
}

int transport_buffer(struct transport *t, size_t len, void **buf)
{
    t->out = NULL;
    if (len > transport_max_in_place(t))
        return ERR_RANGE;
    void *b = t->own;
    if (t->ops->buffer) {
        int err = t->ops->buffer(t, len, &b);
        if (err)
            return err;
    }
    t->out = b;
    t->out_len = len;
    *buf = b;
    return 0;
}

/* The buffer transport_buffer handed out, now being sent: it is no longer the caller's. A
 * refusal leaves it handed out, so the caller can still send it with the right length. */
static int take_out(struct transport *t, size_t len, void **buf)
{
    if (!t->out)
        return ERR_NOENT;
    if (len > t->out_len)
        return ERR_RANGE;
    *buf = t->out;
    t->out = NULL;
    return 0;
}

long transport_call_in_place(struct transport *t, size_t len, const void **resp)
{
    void *buf;
    int err = take_out(t, len, &buf);
    if (err)
        return err;
    if (t->ops->call_in_place)
        return t->ops->call_in_place(t, buf, len, resp);
    uint8_t *in = t->own + t->own_bytes;
    long r = t->ops->call(t, buf, len, in, t->ops->max_payload);
    if (r >= 0)
        *resp = in;
    return r;
}

long transport_recv_in_place(struct transport *t, const void **req)
{
    t->out = NULL;
    if (t->ops->recv_in_place)
        return t->ops->recv_in_place(t, req);
    uint8_t *in = t->own + t->own_bytes;
    long r = t->ops->recv(t, in, t->ops->max_payload);
    if (r >= 0)
        *req = in;
    return r;
}

int transport_reply_in_place(struct transport *t, size_t len)
{
    void *buf;
    int err = take_out(t, len, &buf);
    if (err)
        return err;
    if (t->ops->reply_in_place)
        return t->ops->reply_in_place(t, buf, len);
    return t->ops->reply(t, buf, len);
}

int transport_connect_result(const struct ipc_msg *r)
{
    if (transport_label_op(r->tag) == TRANSPORT_OP_CONNECT)
        return 0;
    int64_t err = (int64_t)r->w[0];
    bool valid = transport_label_op(r->tag) == TRANSPORT_OP_ERROR && err < 0 && err > -4096;
    return valid ? (int)err : ERR_RANGE;
}

int transport_connect(struct transport *t, const struct transport_config *cfg, cap_t ep)
{
    if (!cfg->ops)
        return ERR_NOENT;
    t->ops = cfg->ops;
    t->ep = ep;
    int err = transport_ipcbuf_setup(t);
    if (err)
        return err;
    if ((err = transport_own_setup(t)) || (err = t->ops->connect(t, cfg->ncpus))) {
        transport_own_release(t);
        transport_ipcbuf_release(t);
    }
    return err;
}

void transport_refuse(const struct ipc_msg *hello, const uint32_t *caps, int err)
{
    for (unsigned i = 0; i < ipc_tag_caps(hello->tag); i++)
        sys_cap_delete(caps[i]);
    struct ipc_msg r = {.tag = ipc_tag(transport_label(TRANSPORT_OP_ERROR, 0), 1, 0)};
    r.w[0] = (uint64_t)(int64_t)err;
    ipc_reply(&r);
}

int transport_accept(struct transport *t, cap_t ep)
{
    t->ep = ep;
    int err = transport_ipcbuf_setup(t);
    if (err)
        return err;
    for (;;) {
        struct ipc_msg hello;
        uint64_t badge;
        long r = ipc_recv(ep, &hello, &badge, 0, 0);
        if (r < 0) {
            transport_ipcbuf_release(t);
            return (int)r;
        }
        uint32_t caps[IPC_MAX_CAPS];
        memcpy(caps, t->ipcbuf->caps, sizeof caps);
        if (transport_label_op(hello.tag) != TRANSPORT_OP_CONNECT || ipc_tag_len(hello.tag) < 2) {
            transport_refuse(&hello, caps, ERR_INVAL);
            continue;
        }
        char name[TRANSPORT_NAME_MAX];
        memcpy(name, hello.w, sizeof name);
        name[sizeof name - 1] = '\0';
        t->ops = transport_find(name);
        /* The private buffers come first: a connection is never accepted without them. */
        err = t->ops ? transport_own_setup(t) : ERR_NOENT;
        if (err)
            transport_refuse(&hello, caps, err);
        else if ((err = t->ops->accept(t, &hello, caps)))
            transport_own_release(t);
        if (err)
            transport_ipcbuf_release(t);
        return err;
    }
}
