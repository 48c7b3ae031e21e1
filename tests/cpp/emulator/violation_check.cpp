// Runs `emulator_violations <case>` in a child process and passes only when the child ended by
// abort or a non-zero exit (never by a crash such as SIGSEGV) AND its stderr holds
// "ascendc_cpu: rule violated: <expected>", where <expected> is what
// `emulator_violations --expected <case>` prints. With --expect-success the child must exit 0.
//
//   emulator_violation_check <violations-exe> <case>
//   emulator_violation_check --expect-success <violations-exe> <case>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

namespace {

struct ChildResult {
    int status = 0;
    std::string stderrText;  // the captured stream
};

// Runs `exe args...`; captures the stream `fd` (stdout or stderr) of the child.
ChildResult RunChild(const char *exe, const char *arg1, const char *arg2, int fd)
{
    int pipeFds[2];
    if (pipe(pipeFds) != 0) {
        std::perror("pipe");
        std::exit(2);
    }
    const pid_t pid = fork();
    if (pid < 0) {
        std::perror("fork");
        std::exit(2);
    }
    if (pid == 0) {
        close(pipeFds[0]);
        dup2(pipeFds[1], fd);
        close(pipeFds[1]);
        execl(exe, exe, arg1, arg2, static_cast<char *>(nullptr));
        std::perror("execl");
        _exit(127);
    }
    close(pipeFds[1]);
    ChildResult result;
    char buffer[4096];
    ssize_t got;
    while ((got = read(pipeFds[0], buffer, sizeof(buffer))) > 0) {
        result.stderrText.append(buffer, static_cast<size_t>(got));
    }
    close(pipeFds[0]);
    waitpid(pid, &result.status, 0);
    return result;
}

std::string Describe(int status)
{
    if (WIFEXITED(status)) {
        return "exit code " + std::to_string(WEXITSTATUS(status));
    }
    if (WIFSIGNALED(status)) {
        return std::string("signal ") + strsignal(WTERMSIG(status));
    }
    return "unknown status";
}

}  // namespace

int main(int argc, char **argv)
{
    if (argc == 4 && std::strcmp(argv[1], "--expect-success") == 0) {
        const ChildResult child = RunChild(argv[2], argv[3], nullptr, STDERR_FILENO);
        const bool ok = WIFEXITED(child.status) && WEXITSTATUS(child.status) == 0;
        std::printf("%s: case %s ended with %s\nstderr:\n%s", ok ? "PASS" : "FAIL", argv[3],
                    Describe(child.status).c_str(), child.stderrText.c_str());
        return ok ? 0 : 1;
    }
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s <violations-exe> <case>\n", argv[0]);
        return 2;
    }
    const ChildResult query = RunChild(argv[1], "--expected", argv[2], STDOUT_FILENO);
    if (!WIFEXITED(query.status) || WEXITSTATUS(query.status) != 0 || query.stderrText.empty()) {
        std::printf("FAIL: no expected text for case %s\n", argv[2]);
        return 1;
    }
    const ChildResult child = RunChild(argv[1], argv[2], nullptr, STDERR_FILENO);
    const bool aborted = WIFSIGNALED(child.status) && WTERMSIG(child.status) == SIGABRT;
    const bool failedExit = WIFEXITED(child.status) && WEXITSTATUS(child.status) != 0 &&
                            WEXITSTATUS(child.status) != 127;
    const std::string expected = "ascendc_cpu: rule violated: " + query.stderrText;
    const bool messageFound = child.stderrText.find(expected) != std::string::npos;
    const bool ok = (aborted || failedExit) && messageFound;
    std::printf("%s: case %s ended with %s\nexpected stderr to contain: %s\nstderr:\n%s", ok ? "PASS" : "FAIL",
                argv[2], Describe(child.status).c_str(), expected.c_str(), child.stderrText.c_str());
    return ok ? 0 : 1;
}
