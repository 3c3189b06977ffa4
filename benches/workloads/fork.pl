# An interpreter's bare fork, as a peer of spawn + join: fork, POSIX::_exit
# in the child, waitpid in the parent, N times (no result sent back).
use POSIX ();
my $n = $ARGV[0] // 300;
for (1 .. $n) {
    my $pid = fork();
    POSIX::_exit(0) if $pid == 0;
    waitpid($pid, 0);
}
