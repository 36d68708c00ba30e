import CSystemShims

/// Directories whose subdirectories each start a tree of their own: a container's, a layer's,
/// a volume's. Marked FS_TOPDIR_FL ("chattr +T"), they make ext4 place each new subdirectory
/// in another block group, as it places directories made at the root.
///
/// Why: on ext4 without a journal, the allocation of every new inode skips each inode of its
/// group deleted in the last 30 s. With all containers in one group, a burst of `docker run`
/// just after removals spent about a quarter of Berth's CPU in that scan; spread out, each
/// container's inodes meet few deleted ones. File systems without the flag refuse it: no harm.
public enum TopDirectory {
    public static func mark(_ path: String) {
        _ = berth_mark_top_directory(path)
    }
}
