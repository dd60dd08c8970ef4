/* examples/freestanding.rs in C, for `cargo xtask bench` to compare sizes: map a page,
 * write a message into it, write it to standard output, unmap it, exit. Linked statically
 * against musl and against glibc, and stripped. */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static const char message[] = "freestanding: hello from a page mapped with libc\n";

int main(void) {
    long page = sysconf(_SC_PAGESIZE);
    char *bytes = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (bytes == MAP_FAILED)
        return 1;
    memcpy(bytes, message, sizeof message - 1);
    int failed = write(1, bytes, sizeof message - 1) != sizeof message - 1;
    munmap(bytes, page);
    return failed;
}
