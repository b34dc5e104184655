# process.sh -- sourced by the neighbour scripts: whether a process is still running.
#
# A process that exited but was not yet reaped (a zombie) still answers kill -0 and pgrep. Orphans are reaped by
# pid 1, which on some machines (this project's CI VMs among them) does it seconds later: a server stopped just
# before would look alive, and a new start would take it for a foreign one.
alive() {
    local state
    # The state follows the command name, which is in parentheses and may hold spaces.
    state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}
