// The build's absolute paths, compiled into this one object only.
extern const char* const kTestDataDir;
extern const char* const kSharedDir;
extern const char* const kToolBinary;
extern const char* const kZmmCrashBinary;
extern const char* const kFpCrashM32Binary;
extern const char* const kFpCrashMx32Binary;
const char* const kTestDataDir = XSAVE_TEST_DATA;
const char* const kSharedDir = XSAVE_SHARED_DIR;
const char* const kToolBinary = XSAVETOOL_BIN;
const char* const kZmmCrashBinary = ZMM_CRASH_BIN;
#ifdef FP_CRASH_M32_BIN
const char* const kFpCrashM32Binary = FP_CRASH_M32_BIN;
#else
const char* const kFpCrashM32Binary = "";   // not built: no gcc -m32 multilib
#endif
#ifdef FP_CRASH_MX32_BIN
const char* const kFpCrashMx32Binary = FP_CRASH_MX32_BIN;
#else
const char* const kFpCrashMx32Binary = "";
#endif
