import BerthOCI
import BerthStore
import CSystemShims
import FoundationEssentials
import Glibc

/// An image a container mounts read-only (`--mount type=image,src=busybox,dst=/img`), as
/// recorded at create: the image is found then and held (no `docker rmi` while it is used).
public struct ImageMountPoint: Codable, Sendable, Equatable {
    /// The image as the user named it (what `docker inspect` shows as the mount's Name).
    public var Name: String
    public var ImageID: String
    public var Destination: String
    /// `image-subpath`: the part of the image mounted instead of all of it.
    public var Subpath: String?
}

/// The image mounts of a container: found at create; at each start the image's layers are
/// stacked read-only (an overlay with no upper directory) beside the container's root, and
/// bound into it; they go with the root's unmount.
enum ImageMounts {
    static func plan(_ hostConfig: HostConfig, images: ImageStore) throws -> [ImageMountPoint] {
        try (hostConfig.Mounts ?? []).filter { $0.Type == "image" }.map { mount in
            let source = mount.Source ?? ""
            let image = try images.containerBase(source)
            return ImageMountPoint(Name: source, ImageID: image.id, Destination: MountValidation.clean(mount.Target ?? ""),
                                   Subpath: mount.ImageOptions?.Subpath.flatMap { $0.isEmpty ? nil : $0 })
        }
    }

    /// Where the `index`th image mount of a container is stacked on the host.
    static func mountPoint(_ id: String, index: Int, snapshotter: Snapshotter) -> String {
        snapshotter.root + "/" + id + "/image-\(index)"
    }

    /// Stacks each image and answers the read-only binds for the container's spec. On failure
    /// nothing stays mounted.
    static func mount(_ mounts: [ImageMountPoint], of id: String, images: ImageStore) throws -> [Spec.Mount] {
        var binds: [Spec.Mount] = []
        do {
            for (index, mount) in mounts.enumerated() {
                let target = mountPoint(id, index: index, snapshotter: images.snapshotter)
                try stack(image: mount, at: target, images: images)
                let source = try mount.Subpath.map { try VolumeSubpath.resolve(base: target, subpath: $0) } ?? target
                binds.append(ContainerMounts.bindMount(source: source, destination: mount.Destination, readOnly: true,
                                                       propagation: "rprivate", recursive: true))
            }
        } catch {
            unmount(id, snapshotter: images.snapshotter)
            throw error
        }
        return binds
    }

    private static func stack(image: ImageMountPoint, at target: String, images: ImageStore) throws {
        while berth_umount2(target, Int32(MNT_DETACH)) == 0 {}
        if mkdir(target, 0o755) != 0 && errno != EEXIST {
            throw BerthError.internalError("mkdir \(target): \(goErrorText(errno))")
        }
        guard let top = try images.topLayer(image.ImageID) else {
            throw BerthError.internalError("image \(image.Name) has no layers to mount")
        }
        let layers = try images.snapshotter.layerDirectories(of: top)
        // One layer: itself, read-only (an overlay needs two lower layers without an upper one).
        if layers.count == 1 {
            guard berth_mount(layers[0], target, nil, UInt(MS_BIND), nil) == 0,
                  berth_mount(nil, target, nil, UInt(MS_BIND) | UInt(MS_REMOUNT) | UInt(MS_RDONLY), nil) == 0 else {
                throw BerthError.internalError("mount image \(image.Name) at \(target): \(goErrorText(errno))")
            }
            return
        }
        let result = withCStrings(layers) { pointers in
            pointers.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: layers.count + 1) { lowerArray in
                berth_mount_overlay(target, lowerArray, Int32(layers.count), nil, nil)
            }
        }
        if result != 0 {
            // Kernels before 6.8 take the layers only in one option string.
            guard berth_mount("overlay", target, "overlay", UInt(MS_RDONLY), "lowerdir=" + layers.joined(separator: ":")) == 0 else {
                throw BerthError.internalError("mount image \(image.Name) at \(target): \(goErrorText(errno))")
            }
        }
    }

    /// The binds of a running container's image mounts, from their stacks as they are
    /// (`docker cp`); one whose subpath no longer resolves is left out.
    static func stackedBinds(_ mounts: [ImageMountPoint]?, of id: String, snapshotter: Snapshotter) -> [Spec.Mount] {
        (mounts ?? []).enumerated().compactMap { index, mount in
            let stack = mountPoint(id, index: index, snapshotter: snapshotter)
            guard let source = mount.Subpath.map({ try? VolumeSubpath.resolve(base: stack, subpath: $0) }) ?? stack else { return nil }
            return ContainerMounts.bindMount(source: source, destination: mount.Destination, readOnly: true,
                                             propagation: "rprivate", recursive: true)
        }
    }

    /// Takes down every image stacked and subpath pinned for a container (after its run, or
    /// a failed start).
    static func unmount(_ id: String, snapshotter: Snapshotter) {
        let directory = snapshotter.root + "/" + id
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        // Pinned volume subpaths (VolumeSubpath.pin) live beside them.
        for entry in entries where entry.hasPrefix("image-") || entry.hasPrefix("subpath-") {
            while berth_umount2(directory + "/" + entry, Int32(MNT_DETACH)) == 0 {}
        }
    }
}
