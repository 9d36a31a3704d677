// SPDX-License-Identifier: AGPL-3.0-or-later
#include "store/errc.hpp"

namespace idgate::store {
namespace {

// boost::system::error_category has a protected non-virtual destructor by design (categories are
// never deleted through a base pointer), which -Wnon-virtual-dtor cannot know.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "idgate.store"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
            case errc::not_found: return "not found";
            case errc::already_exists: return "already exists";
            case errc::version_mismatch: return "version mismatch";
            case errc::not_supported: return "not supported";
            case errc::last_owner: return "would leave the organization without an owner";
            case errc::expired: return "expired";
            case errc::already_used: return "already used";
        }
        return "unknown storage error";
    }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& store_category() noexcept {
    static const category instance;
    return instance;
}

}  // namespace idgate::store
