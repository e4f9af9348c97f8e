//! One conformance suite for the durability file-system seam: the real file system and
//! the fault-injecting one must answer every operation durability uses alike, so that
//! what a test proves on the fake holds on the disk. Then the fake's crash model: only
//! synced bytes and names survive.

use std::io::ErrorKind;
use std::path::Path;
use weft_storage::durability::io::faulty::{FaultyFs, Tail};
use weft_storage::durability::{FileSystem, RealFs};

/// Every operation durability uses, with the answers both implementations must give.
fn conforms(fs: &dyn FileSystem, root: &Path) {
    // Directories: created with parents, listed, missing ones are `NotFound`.
    let dir = root.join("a/b");
    fs.create_dir_all(&dir).unwrap();
    assert!(fs.is_dir(&dir) && fs.exists(&dir));
    assert_eq!(
        fs.read_dir(&root.join("missing")).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(fs.read(&dir.join("missing")).unwrap_err().kind(), ErrorKind::NotFound);

    // Files: appended to, read whole or in part, sized, cut, synced.
    let file = dir.join("f.log");
    let mut handle = fs.create_new(&file).unwrap();
    assert_eq!(fs.create_new(&file).unwrap_err().kind(), ErrorKind::AlreadyExists);
    handle.write_all(b"hello ").unwrap();
    handle.write_all(b"world").unwrap();
    handle.sync_data().unwrap();
    assert_eq!(fs.read(&file).unwrap(), b"hello world");
    assert_eq!(fs.read_at(&file, 6, 100).unwrap(), b"world");
    assert_eq!(fs.read_at(&file, 0, 5).unwrap(), b"hello");
    assert_eq!(fs.read_at(&file, 50, 5).unwrap(), b"");
    assert_eq!(fs.len(&file).unwrap(), 11);
    handle.set_len(5).unwrap();
    handle.write_all(b"!").unwrap();
    handle.sync_all().unwrap();
    assert_eq!(fs.read(&file).unwrap(), b"hello!");
    let mut again = fs.open_write(&file).unwrap();
    again.write_all(b"?").unwrap();
    assert_eq!(fs.read(&file).unwrap(), b"hello!?");
    fs.create(&file).unwrap().write_all(b"new").unwrap();
    assert_eq!(fs.read(&file).unwrap(), b"new");

    // Names: renamed (replacing), listed, removed; the directory synced.
    let other = dir.join("g.log");
    fs.create(&other).unwrap().write_all(b"other").unwrap();
    fs.rename(&other, &file).unwrap();
    assert_eq!(fs.read(&file).unwrap(), b"other");
    let mut names = fs.read_dir(&dir).unwrap();
    names.sort();
    assert_eq!(names, vec!["f.log".to_string()]);
    fs.sync_dir(&dir).unwrap();
    fs.remove_file(&file).unwrap();
    assert_eq!(fs.remove_file(&file).unwrap_err().kind(), ErrorKind::NotFound);
    assert!(!fs.exists(&file));

    // Directories move whole.
    fs.create(&dir.join("h.log")).unwrap().write_all(b"h").unwrap();
    fs.rename(&root.join("a"), &root.join("c")).unwrap();
    assert_eq!(fs.read(&root.join("c/b/h.log")).unwrap(), b"h");

    // Locks: exclusive until dropped.
    let lock = root.join("LOCK");
    let held = fs.try_lock(&lock).unwrap().expect("free");
    assert!(fs.try_lock(&lock).unwrap().is_none());
    drop(held);
    assert!(fs.try_lock(&lock).unwrap().is_some());
}

#[test]
fn the_real_file_system_conforms() {
    let tmp = tempfile::tempdir().unwrap();
    conforms(&RealFs, tmp.path());
}

#[test]
fn the_faulty_file_system_conforms() {
    conforms(&FaultyFs::new(), Path::new("/root"));
}

#[test]
fn a_crash_keeps_only_synced_bytes_and_names() {
    // Set up: a synced file with an unsynced tail, a file whose name was never synced,
    // and a rename not yet synced.
    let fs = FaultyFs::new();
    let dir = Path::new("/d");
    fs.create_dir_all(dir).unwrap();
    let mut kept = fs.create_new(&dir.join("kept")).unwrap();
    kept.write_all(b"durable").unwrap();
    kept.sync_all().unwrap();
    fs.sync_dir(dir).unwrap();
    kept.write_all(b" tail").unwrap();
    let mut unnamed = fs.create_new(&dir.join("unnamed")).unwrap();
    unnamed.write_all(b"x").unwrap();
    unnamed.sync_all().unwrap();
    assert_eq!(fs.unsynced(), vec![(dir.join("kept"), 5)]);

    // Act and check: each kind of tail, on a copy of the disk.
    for (tail, expected) in [
        (Tail::Lose, &b"durable"[..]),
        (Tail::Keep(2), b"durable t"),
        (Tail::KeepThenZeros(2), b"durable t\0\0\0"),
        (Tail::Keep(99), b"durable tail"),
    ] {
        let crashed = fs.fork();
        crashed.crash(|_, _| tail);
        assert_eq!(crashed.read(&dir.join("kept")).unwrap(), expected, "{tail:?}");
        assert!(!crashed.exists(&dir.join("unnamed")), "a name never synced is lost");
    }

    // Check: a rename is durable only once its directory is synced; handles die.
    fs.rename(&dir.join("kept"), &dir.join("renamed")).unwrap();
    let crashed = fs.fork();
    crashed.crash_losing_unsynced();
    assert!(crashed.exists(&dir.join("kept")) && !crashed.exists(&dir.join("renamed")));
    fs.sync_dir(dir).unwrap();
    fs.crash_losing_unsynced();
    assert!(fs.exists(&dir.join("renamed")) && !fs.exists(&dir.join("kept")));
    assert!(
        kept.write_all(b"late").is_err(),
        "a handle from before the crash is dead"
    );
}

#[test]
fn a_full_disk_writes_what_fits_then_fails_with_storage_full() {
    let fs = FaultyFs::new();
    fs.create_dir_all(Path::new("/d")).unwrap();
    let mut file = fs.create_new(Path::new("/d/f")).unwrap();
    fs.set_capacity(Some(4));
    let error = file.write_all(b"abcdef").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::StorageFull);
    assert_eq!(fs.read(Path::new("/d/f")).unwrap(), b"abcd");
    fs.remove_file(Path::new("/d/f")).unwrap();
    assert_eq!(fs.used(), 0, "deleting frees space");
}
