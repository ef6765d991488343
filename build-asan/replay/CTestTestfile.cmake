# CMake generated Testfile for 
# Source directory: /work/main/replay
# Build directory: /work/main/build-asan/replay
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
