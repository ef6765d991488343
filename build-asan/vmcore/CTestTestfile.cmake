# CMake generated Testfile for 
# Source directory: /work/main/vmcore
# Build directory: /work/main/build-asan/vmcore
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
