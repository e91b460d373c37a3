// The header compiled as C++ (g++ -std=c++17 -Wall -Wextra -Werror) and linked: the
// declarations must be usable from C++ with C linkage.
#include "consent.h"

#include <cstdio>
#include <cstring>
#include <type_traits>

static_assert(std::is_same<std::underlying_type<consent_result>::type, int32_t>::value,
              "consent_result is an int32_t");
static_assert(sizeof(consent_head) == 40, "consent_head is 8 + 32 bytes");
static_assert(CONSENT_EVENT_ID_LEN == 37, "a UUID and its NUL");
static_assert(CONSENT_KEY_LEN == 32, "a pseudonym key is 32 bytes");
static_assert(CONSENT_RESULT_KEY == 23, "result codes are fixed");
static_assert(CONSENT_STATE_ERASED == 10 && CONSENT_STATE_NEEDS_RENEWAL == 11 && CONSENT_STATE_UNKNOWN == 99,
              "states are appended, never renumbered");
static_assert(CONSENT_EVENT_KIND_NOTICE_SERVED == 7 && CONSENT_EVENT_KIND_OBJECTION_OVERRULED == 8,
              "event kinds are appended, never renumbered");
static_assert(CONSENT_TIME_ZONE_LEN == 64 && CONSENT_ERASE_FORCE == 1, "fixed constants");

int main() {
    consent_ledger *ledger = nullptr;
    if (consent_ledger_open_in_memory(nullptr, &ledger) != CONSENT_RESULT_OK) {
        return 1;
    }
    consent_head head{};
    consent_result r = consent_get_head(ledger, &head);
    consent_ledger_free(ledger);
    std::printf("header_cpp: consent %s from C++, head size %llu\n", consent_version(),
                static_cast<unsigned long long>(head.size));
    // A new ledger holds one event: its own configuration (ledger_configured).
    return r == CONSENT_RESULT_OK && head.size == 1 && std::strlen(consent_version()) > 0 ? 0 : 1;
}
