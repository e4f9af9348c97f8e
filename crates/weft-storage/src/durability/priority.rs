//! The CPU priority of background durability work (the snapshot writer): committers must
//! not wait for the cores a long scan would otherwise take.
//!
//! Owns: [`lower_priority`]. On Linux the calling thread gets the idle scheduling policy
//! (`SCHED_IDLE`): any ordinary thread that wakes up, such as a committer back from its
//! fsync, takes the core at once instead of waiting for the writer's time slice to end,
//! which a lower nice value alone does not give. The threads the writer starts inherit
//! the policy. A writer that cannot have it runs at nice [`SNAPSHOT_NICE`] instead.
//! The writer lowers its priority only after taking its consistent view (under the
//! commit lock, which an idle-policy thread must never hold: every commit would wait for
//! it while ordinary threads keep the cores busy). Its scan still takes each vertex's lock
//! for a moment, so a committer writing that very vertex can wait for it until a core is
//! free.

/// The nice value of a snapshot writer (10: about a tenth of a committer's share of a
/// busy core), set whatever the policy.
pub(super) const SNAPSHOT_NICE: i32 = 10;

/// Lowers the calling thread's CPU priority; see the module docs. Where both are refused,
/// the thread goes on at its priority.
pub(super) fn lower_priority() {
    let thread = rustix::thread::gettid();
    if let Err(error) = rustix::process::setpriority_process(Some(thread), SNAPSHOT_NICE) {
        tracing::debug!(%error, "cannot lower the snapshot writer's nice value");
    }
    if let Err(error) = idle_policy() {
        tracing::debug!(%error, "cannot give the snapshot writer the idle scheduling policy");
    }
}

#[cfg(target_os = "linux")]
fn idle_policy() -> std::io::Result<()> {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: pid 0 names the calling thread; `param` is a valid, initialised
    // sched_param that outlives the call, which only reads it. The test below checks the
    // policy the thread ends up with.
    let done = unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) };
    if done == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn idle_policy() -> std::io::Result<()> {
    Err(std::io::Error::other("no idle scheduling policy on this system"))
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    /// The scheduling policy of the calling thread, from `/proc` (field 41 of `stat`).
    fn policy() -> u32 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        // Fields after the command name (in parentheses, which may hold spaces) start
        // with field 3.
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        after.split(' ').nth(41 - 3).unwrap().parse().unwrap()
    }

    #[test]
    fn a_snapshot_writer_runs_at_a_lower_priority_than_its_caller() {
        let caller = rustix::process::getpriority_process(None).unwrap();
        let (nice, writer, child) = std::thread::spawn(|| {
            super::lower_priority();
            let nice = rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap();
            // A thread it starts (the writer's encoders) inherits the policy.
            let child = std::thread::spawn(policy).join().unwrap();
            (nice, policy(), child)
        })
        .join()
        .unwrap();
        assert_eq!(nice, super::SNAPSHOT_NICE.max(caller));
        assert_eq!(writer, libc::SCHED_IDLE as u32);
        assert_eq!(child, libc::SCHED_IDLE as u32);
        assert_eq!(policy(), 0, "the caller keeps its own policy");
        assert_eq!(
            rustix::process::getpriority_process(None).unwrap(),
            caller,
            "the caller keeps its own nice value"
        );
    }
}
