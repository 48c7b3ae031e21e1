// A minimal test harness: TEST(name) registers a case, CHECK*/REQUIRE* record failures, and
// main() runs every case (or those named on the command line) and prints "N passed, N failed".
#ifndef MOE_RE_ROUTING_MINI_TEST_H
#define MOE_RE_ROUTING_MINI_TEST_H

#include <cstdio>
#include <cstring>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace mini_test {

struct Case {
    const char *name;
    std::function<void()> fn;
};

inline std::vector<Case> &Registry()
{
    static std::vector<Case> cases;
    return cases;
}

inline int &Failures()
{
    static int failures = 0;
    return failures;
}

struct Registrar {
    Registrar(const char *name, std::function<void()> fn) { Registry().push_back({name, std::move(fn)}); }
};

struct Abort {};  // thrown by REQUIRE to leave the current case

inline void Fail(const char *file, int line, const std::string &what)
{
    ++Failures();
    std::fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, what.c_str());
}

inline int RunAll(int argc, char **argv)
{
    int passed = 0;
    int failed = 0;
    for (const Case &c : Registry()) {
        bool selected = argc <= 1;
        for (int i = 1; i < argc; ++i) {
            selected = selected || std::strcmp(argv[i], c.name) == 0;
        }
        if (!selected) {
            continue;
        }
        const int before = Failures();
        try {
            c.fn();
        } catch (const Abort &) {
        } catch (const std::exception &e) {
            Fail(__FILE__, __LINE__, std::string(c.name) + " threw " + e.what());
        }
        if (Failures() == before) {
            ++passed;
            std::printf("[ OK ] %s\n", c.name);
        } else {
            ++failed;
            std::printf("[FAIL] %s\n", c.name);
        }
    }
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}

}  // namespace mini_test

#define MT_CONCAT2(a, b) a##b
#define MT_CONCAT(a, b) MT_CONCAT2(a, b)
#define TEST(name)                                                                        \
    static void name();                                                                   \
    static ::mini_test::Registrar MT_CONCAT(mt_registrar_, name)(#name, name);            \
    static void name()

#define CHECK(cond)                                                                       \
    do {                                                                                  \
        if (!(cond)) ::mini_test::Fail(__FILE__, __LINE__, #cond);                        \
    } while (0)
#define REQUIRE(cond)                                                                     \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            ::mini_test::Fail(__FILE__, __LINE__, #cond);                                 \
            throw ::mini_test::Abort{};                                                   \
        }                                                                                 \
    } while (0)
#define CHECK_EQ(a, b)                                                                    \
    do {                                                                                  \
        const auto &mt_a = (a);                                                           \
        const auto &mt_b = (b);                                                           \
        if (!(mt_a == mt_b)) {                                                            \
            std::ostringstream mt_os;                                                     \
            mt_os << #a " == " #b " (" << mt_a << " vs " << mt_b << ")";                  \
            ::mini_test::Fail(__FILE__, __LINE__, mt_os.str());                           \
        }                                                                                 \
    } while (0)
#define CHECK_CONTAINS(haystack, needle)                                                  \
    do {                                                                                  \
        const std::string mt_h = (haystack);                                              \
        if (mt_h.find(needle) == std::string::npos)                                       \
            ::mini_test::Fail(__FILE__, __LINE__, "\"" + mt_h + "\" lacks \"" + (needle) + "\""); \
    } while (0)

#define MINI_TEST_MAIN()                                                                  \
    int main(int argc, char **argv) { return ::mini_test::RunAll(argc, argv); }

#endif  // MOE_RE_ROUTING_MINI_TEST_H
