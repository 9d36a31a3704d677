# Project-wide compile flags live on one INTERFACE target that every idgate target links.
add_library(idgate_flags INTERFACE)
add_library(idgate::flags ALIAS idgate_flags)
target_compile_options(idgate_flags INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wimplicit-fallthrough)
if(IDGATE_WERROR)
  target_compile_options(idgate_flags INTERFACE -Werror)
endif()
if(IDGATE_SANITIZE)
  target_compile_options(idgate_flags INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(idgate_flags INTERFACE -fsanitize=address,undefined)
endif()
