/* nop: the minimal program ubench's process/spawn and process/spawn_wait start: crt0, a return,
 * SYS_EXIT. Exit status: 0. */
int main(void)
{
    return 0;
}
