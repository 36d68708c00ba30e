import BerthOCI
import Testing
@testable import BerthEngine

struct ImagePlatformTests {
    static func image(_ architecture: String?, os: String? = "linux", variant: String? = nil) -> ImageConfig {
        var config = ImageConfig(architecture: architecture, os: os, created: nil, config: nil,
                                 rootfs: .init(type: "layers", diff_ids: []), history: nil)
        config.variant = variant
        return config
    }

    @Test func theImagesOwnPlatformAndItsAliasesAreAccepted() throws {
        for asked in ["linux", "linux/amd64", "Linux/x86_64", "linux/amd64/v2"] {
            try ImagePlatform.check(asked, image: Self.image("amd64"), reference: "busybox")
        }
        try ImagePlatform.check("linux/arm64/v8", image: Self.image("arm64"), reference: "busybox")
        try ImagePlatform.check("linux/aarch64", image: Self.image("arm64", variant: "v8"), reference: "busybox")
        try ImagePlatform.check(nil, image: Self.image("s390x"), reference: "busybox")
    }

    /// Another platform counts as not found (so the CLI tries a pull), in current dockerd's words.
    @Test func anotherPlatformIsNotFound() {
        #expect(throws: BerthError.notFound("image with reference busybox was found but does not match the specified platform: wanted linux/arm64, actual: linux/amd64")) {
            try ImagePlatform.check("linux/arm64", image: Self.image("amd64"), reference: "busybox")
        }
        #expect(throws: BerthError.notFound("image with reference b:1 was found but does not match the specified platform: wanted windows, actual: linux/amd64")) {
            try ImagePlatform.check("windows", image: Self.image("amd64"), reference: "b:1")
        }
        #expect(throws: BerthError.notFound("image with reference b was found but does not match the specified platform: wanted linux/arm/v7, actual: linux/arm/v6")) {
            try ImagePlatform.check("linux/arm/v7", image: Self.image("arm", variant: "v6"), reference: "b")
        }
        #expect(throws: BerthError.invalidArgument(#""linux//": unknown operating system or architecture: invalid argument"#)) {
            try ImagePlatform.check("linux//", image: Self.image("amd64"), reference: "b")
        }
    }
}
