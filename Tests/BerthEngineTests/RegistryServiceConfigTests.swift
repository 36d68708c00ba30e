import Testing
@testable import BerthEngine

/// `docker info`'s RegistryConfig from daemon.json's insecure-registries, as dockerd builds it.
struct RegistryServiceConfigTests {
    @Test func defaultsAreTheLoopbackNetworksAndTheHub() {
        let config = RegistryServiceConfig(insecureRegistries: [])
        #expect(config.insecureCIDRs == ["::1/128", "127.0.0.0/8"])
        #expect(config.indexes == ["docker.io": .init(name: "docker.io", mirrors: [], secure: true, official: true)])
        #expect(config.mirrors == [])
    }

    @Test func cidrsAreNetworksAndNamesAreInsecureIndexes() {
        let config = RegistryServiceConfig(insecureRegistries: [
            "10.1.2.3/8", "http://registry.test:5000", "fd00:1::5/64", "127.0.0.0/8", "10.0.0.0/8", "docker.io",
        ])
        // Listed order first, repeats dropped: the listed 127.0.0.0/8 comes before the default ::1/128.
        #expect(config.insecureCIDRs == ["10.0.0.0/8", "fd00:1::/64", "127.0.0.0/8", "::1/128"])
        #expect(config.indexes["registry.test:5000"] == .init(name: "registry.test:5000", mirrors: [], secure: false, official: false))
        #expect(config.indexes["docker.io"]?.secure == true)
        #expect(config.indexes.count == 2)
    }
}
