# SPDX-License-Identifier: GPL-3.0-or-later
# tts: renders a bulletin file to WAV or Ogg Opus for listening; included from tools/CMakeLists.txt.
add_executable(tts tts.c)
target_link_libraries(tts cx_tts cx_headend_config PkgConfig::OPUSENC PkgConfig::OPUS)
