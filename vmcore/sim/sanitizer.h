// FAULTLINE_ASAN: built with AddressSanitizer (clang's and gcc's spellings).
#pragma once

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FAULTLINE_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(FAULTLINE_ASAN)
#define FAULTLINE_ASAN 1
#endif
