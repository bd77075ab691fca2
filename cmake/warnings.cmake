# Warnings and sanitizers shared by every target of the project.
set(POCKET_CXX_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
    -Werror=switch -Wnon-virtual-dtor -Wold-style-cast)
set(POCKET_C_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Werror=switch)

function(pocket_target_defaults target)
  get_target_property(_type ${target} TYPE)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:${POCKET_CXX_WARNINGS}>
    $<$<COMPILE_LANGUAGE:C>:${POCKET_C_WARNINGS}>)
  if(POCKET_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

if(POCKET_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
