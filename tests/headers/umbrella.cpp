// The umbrella header must be usable from C++ (extern "C" guards).
#include <tclaims/tclaims.h>
int tc_headertest_cpp(void);
int tc_headertest_cpp(void)
{
    tc_ctx *ctx = nullptr;
    return tc_ctx_new(&ctx) == TC_OK ? (tc_ctx_free(ctx), 0) : 1;
}
