# Project-wide compile flags live on one INTERFACE target that every idgate target links.
add_library(idgate_flags INTERFACE)
add_library(idgate::flags ALIAS idgate_flags)
target_compile_options(idgate_flags INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wimplicit-fallthrough)
if(IDGATE_WERROR)
  target_compile_options(idgate_flags INTERFACE -Werror)
endif()
if(IDGATE_SANITIZE)
  # vptr is left out: it needs the typeinfo of every polymorphic class it sees, and Debian's SOCI does
  # not export it for soci::details::ref_counted_statement (link errors otherwise).
  target_compile_options(idgate_flags INTERFACE
    -fsanitize=address,undefined -fno-sanitize=vptr -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(idgate_flags INTERFACE -fsanitize=address,undefined)
endif()

