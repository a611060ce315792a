// The build's absolute paths, compiled into this one object only.
extern const char* const kTestDataDir;
extern const char* const kSharedDir;
extern const char* const kToolBinary;
extern const char* const kZmmCrashBinary;
const char* const kTestDataDir = XSAVE_TEST_DATA;
const char* const kSharedDir = XSAVE_SHARED_DIR;
const char* const kToolBinary = XSAVETOOL_BIN;
const char* const kZmmCrashBinary = ZMM_CRASH_BIN;
