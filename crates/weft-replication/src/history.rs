//! Epoch histories: which epochs an instance's data went through, and whether a replica's
//! data is a prefix of its MAIN's.
//!
//! Owns: the rule that tells a replica that is merely behind from one that diverged, and
//! the choice of a new epoch at promotion.
//! An epoch is one MAIN's term: it starts when an instance becomes MAIN and ends with the
//! newest commit made in it. A history lists the ended epochs, oldest first, each with
//! its newest commit; the current epoch is the MAIN's own (or, on a replica, the epoch of
//! the MAIN whose records it applies). A replica's data follows MAIN's when the epoch of
//! its newest commit is in MAIN's history and it holds no commit past that epoch's end
//! there. A new epoch is above every epoch the promoted instance knows, by a random step,
//! so that two replicas promoted from one history (a split brain) do not share a number.

use weft_rpc::pb;

/// One ended epoch and the newest commit made in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EpochMark {
    pub epoch: u64,
    pub last_ts: u64,
}

/// Largest random step between a known epoch and a new one.
const STEP: u64 = 1 << 20;

/// The part of a history (`ended`, then `current`) that a node holding commits up to
/// `held` shares: the ended epochs before the one its newest commit was made in, and that
/// epoch. A replica adopts MAIN's whole history when it connects, yet may hold only a
/// prefix of it; answering or promoting with the whole of it would vouch for commits it
/// does not have.
pub fn held_part(ended: &[EpochMark], current: u64, held: u64) -> (Vec<EpochMark>, u64) {
    match ended.iter().position(|m| m.last_ts >= held) {
        Some(at) => (ended[..at].to_vec(), ended[at].epoch),
        None => (ended.to_vec(), current),
    }
}

/// What a node says about its history: the ended epochs and the current one with the
/// newest commit this node holds in it.
pub fn marks(ended: &[EpochMark], current: u64, last_ts: u64) -> Vec<pb::EpochMark> {
    ended
        .iter()
        .chain(std::iter::once(&EpochMark {
            epoch: current,
            last_ts,
        }))
        .map(|m| pb::EpochMark {
            epoch: m.epoch,
            last_commit_ts: m.last_ts,
        })
        .collect()
}

/// Why the replica whose history ends with `replica` (its newest commit's epoch and
/// timestamp) does not follow MAIN's history (`main`, as [`marks`] gives it, the current
/// epoch last); `None` when it does. A replica that holds nothing follows any history.
pub fn diverged(main: &[pb::EpochMark], replica: Option<&pb::EpochMark>) -> Option<String> {
    let replica = replica.filter(|r| r.last_commit_ts > 0)?;
    let (epoch, held) = (replica.epoch, replica.last_commit_ts);
    let advice = "wipe its data directory and register it again (its commits missing on MAIN are lost), or make it \
                  MAIN again if they matter";
    let Some(at) = main.iter().position(|m| m.epoch == epoch) else {
        return Some(format!(
            "the replica's newest commit ({held}) was made in epoch {epoch}, which this MAIN's history does not \
             contain: its history diverged from MAIN's; {advice}"
        ));
    };
    let end = main[at].last_commit_ts;
    if held <= end {
        return None;
    }
    let main_side = if at + 1 == main.len() {
        format!("this MAIN holds up to {end}")
    } else {
        format!("this MAIN's history ended epoch {epoch} at {end}")
    };
    Some(format!(
        "the replica holds commits up to {held} in epoch {epoch}, but {main_side}: the replica has commits MAIN never \
         had, its history diverged from MAIN's; {advice}"
    ))
}

/// A new epoch above every epoch in `ended` and above `at_least`.
pub fn next_epoch(ended: &[EpochMark], at_least: u64) -> u64 {
    let known = ended.iter().map(|m| m.epoch).max().unwrap_or(0).max(at_least);
    let step = 1 + (weft_storage::durability::Uuid::new_v4().as_u128() as u64) % STEP;
    known.saturating_add(step)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(epoch: u64, last_commit_ts: u64) -> pb::EpochMark {
        pb::EpochMark { epoch, last_commit_ts }
    }

    #[test]
    fn behind_is_not_diverged_and_commits_past_an_epochs_end_are() {
        let main = [mark(0, 100), mark(7, 150)];
        assert_eq!(diverged(&main, Some(&mark(0, 90))), None, "behind in an ended epoch");
        assert_eq!(diverged(&main, Some(&mark(0, 100))), None);
        assert_eq!(diverged(&main, Some(&mark(7, 150))), None);
        assert_eq!(diverged(&main, Some(&mark(3, 0))), None, "holds nothing");
        let past_end = diverged(&main, Some(&mark(0, 120))).unwrap();
        assert!(past_end.contains("ended epoch 0 at 100"), "{past_end}");
        assert!(diverged(&main, Some(&mark(7, 151))).is_some());
        let unknown = diverged(&main, Some(&mark(5, 10))).unwrap();
        assert!(unknown.contains("epoch 5"), "{unknown}");
    }

    #[test]
    fn a_node_holding_a_prefix_of_a_history_speaks_only_for_that_prefix() {
        let ended = [
            EpochMark { epoch: 1, last_ts: 100 },
            EpochMark { epoch: 4, last_ts: 150 },
        ];
        assert_eq!(held_part(&ended, 9, 60), (vec![], 1));
        assert_eq!(held_part(&ended, 9, 100), (vec![], 1));
        assert_eq!(held_part(&ended, 9, 120), (ended[..1].to_vec(), 4));
        assert_eq!(held_part(&ended, 9, 151), (ended.to_vec(), 9));
    }

    #[test]
    fn new_epochs_are_above_every_known_one_and_rarely_equal() {
        let ended = [EpochMark { epoch: 9, last_ts: 1 }];
        let picks: Vec<u64> = (0..8).map(|_| next_epoch(&ended, 4)).collect();
        assert!(picks.iter().all(|&e| e > 9 && e <= 9 + STEP));
        assert!(picks.windows(2).any(|w| w[0] != w[1]));
        assert!(next_epoch(&[], 30) > 30);
    }
}
