# SPDX-License-Identifier: GPL-3.0-or-later
# bench_reading: share of syllables read as in tests/data/gold, lexicon load time, time per
# bulletin, English fallbacks on the shared bulletins. Included by the top-level CMakeLists.txt.
add_executable(bench_reading ${CMAKE_SOURCE_DIR}/bench/reading.c)
target_compile_definitions(bench_reading PRIVATE CX_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
target_link_libraries(bench_reading cx_tts)
