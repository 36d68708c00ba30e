import BerthOCI
import Foundation
import Testing
@testable import BerthEngine

struct DockerModelsTests {
    /// `docker run -it --name web -e A=1 -v /tmp:/data:ro -m 64m busybox sh` from the stock CLI
    /// (API 1.50), written out by hand after the API reference: nulls for lists and maps it
    /// does not set.
    static let cliBody = """
    {"Hostname":"","Domainname":"","User":"","AttachStdin":true,"AttachStdout":true,"AttachStderr":true,
     "Tty":true,"OpenStdin":true,"StdinOnce":true,"Env":["A=1"],"Cmd":["sh"],"Image":"busybox",
     "Volumes":{},"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":{},
     "HostConfig":{"Binds":["/tmp:/data:ro"],"ContainerIDFile":"","LogConfig":{"Type":"","Config":{}},
      "NetworkMode":"bridge","PortBindings":{"80/tcp":[{"HostIp":"","HostPort":"8080"}]},
      "RestartPolicy":{"Name":"no","MaximumRetryCount":0},"AutoRemove":false,"VolumeDriver":"","VolumesFrom":null,
      "ConsoleSize":[50,120],"CapAdd":null,"CapDrop":null,"CgroupnsMode":"","Dns":[],"DnsOptions":[],"DnsSearch":[],
      "ExtraHosts":null,"GroupAdd":null,"IpcMode":"","Cgroup":"","Links":null,"OomScoreAdj":0,"PidMode":"",
      "Privileged":false,"PublishAllPorts":false,"ReadonlyRootfs":false,"SecurityOpt":null,"UTSMode":"",
      "UsernsMode":"","ShmSize":0,"Isolation":"","CpuShares":0,"Memory":67108864,"NanoCpus":0,"CgroupParent":"",
      "BlkioWeight":0,"BlkioWeightDevice":[],"BlkioDeviceReadBps":[],"BlkioDeviceWriteBps":[],
      "BlkioDeviceReadIOps":[],"BlkioDeviceWriteIOps":[],"CpuPeriod":0,"CpuQuota":0,"CpuRealtimePeriod":0,
      "CpuRealtimeRuntime":0,"CpusetCpus":"","CpusetMems":"","Devices":[],"DeviceCgroupRules":null,
      "DeviceRequests":null,"MemoryReservation":0,"MemorySwap":0,"MemorySwappiness":null,"OomKillDisable":null,
      "PidsLimit":null,"Ulimits":[{"Name":"nofile","Soft":1024,"Hard":2048}],"CpuCount":0,"CpuPercent":0,
      "IOMaximumIOps":0,"IOMaximumBandwidth":0,"MaskedPaths":null,"ReadonlyPaths":null,
      "Mounts":[{"Type":"tmpfs","Target":"/scratch","TmpfsOptions":{"SizeBytes":1048576,"Mode":1023}}]},
     "NetworkingConfig":{"EndpointsConfig":{"bridge":{"IPAMConfig":null,"Links":null,"Aliases":null,"MacAddress":"","DriverOpts":null,"GwPriority":0}}}}
    """

    static func decode(_ text: String) throws -> ContainerCreateRequest {
        try JSONDecoder().decode(ContainerCreateRequest.self, from: Data(text.utf8))
    }

    @Test func decodesTheStockCLIBody() throws {
        let request = try Self.decode(Self.cliBody)
        #expect(request.config.Image == "busybox")
        #expect(request.config.Cmd == ["sh"])
        #expect(request.config.Entrypoint == nil)
        #expect(request.config.Tty == true)
        #expect(request.config.Env == ["A=1"])
        #expect(request.config.OnBuild == nil)
        let host = request.hostConfig
        #expect(host.Binds == ["/tmp:/data:ro"])
        #expect(host.Memory == 67_108_864)
        #expect(host.MemorySwappiness == nil)
        #expect(host.PidsLimit == nil)
        #expect(host.CapAdd == nil)
        #expect(host.ConsoleSize == [50, 120])
        #expect(host.RestartPolicy == RestartPolicy(Name: "no", MaximumRetryCount: 0))
        #expect(host.PortBindings?["80/tcp"]??.first?.HostPort == "8080")
        #expect(host.Ulimits == [Ulimit(Name: "nofile", Soft: 1024, Hard: 2048)])
        #expect(host.Mounts?.first?.TmpfsOptions?.SizeBytes == 1_048_576)
        #expect(host.LogConfig?.Config == [:])
        #expect(request.networkingConfig?.EndpointsConfig?["bridge"]??.MacAddress == "")
    }

    /// docker-py sends only what it is given, and Cmd as a string when the caller passes one.
    @Test func decodesAMinimalDockerPyBody() throws {
        let request = try Self.decode(#"{"Image":"busybox","Cmd":"echo hi","Entrypoint":[],"HostConfig":{"NetworkMode":"default","CapAdd":"NET_ADMIN"}}"#)
        #expect(request.config.Cmd == ["echo hi"])
        #expect(request.config.Entrypoint == [])
        #expect(request.hostConfig.CapAdd == ["NET_ADMIN"])
        #expect(request.networkingConfig == nil)
    }

    @Test func decodesABodyWithoutHostConfig() throws {
        let request = try Self.decode(#"{"Image":"busybox"}"#)
        #expect(request.hostConfig == HostConfig())
        #expect(request.config.Cmd == nil)
    }

    /// inspect output follows Go's field rules: always-present fields as null or zero,
    /// omitempty ones left out.
    @Test func encodesHostConfigAsDockerdShowsIt() throws {
        var host = HostConfig()
        host.NetworkMode = "default"
        host.Memory = 64 << 20
        let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(host)) as! [String: Any]
        #expect(object["Binds"] is NSNull)
        #expect(object["Memory"] as? Int == 64 << 20)
        #expect(object["CpuShares"] as? Int == 0)
        #expect(object["NetworkMode"] as? String == "default")
        #expect((object["ConsoleSize"] as? [Int]) == [0, 0])
        #expect(object["PidsLimit"] is NSNull)  // a pointer without omitempty: null when unset (20.10 and current)
        #expect(object["Tmpfs"] == nil)
        #expect(object["Sysctls"] == nil)
        #expect(object["Init"] == nil)
        #expect((object["RestartPolicy"] as? [String: Any])?["Name"] as? String == "")
        #expect((object["LogConfig"] as? [String: Any])?["Config"] is NSNull)
    }

    @Test func encodesConfigAsDockerdShowsIt() throws {
        var config = ContainerConfig()
        config.Image = "busybox"
        config.Cmd = ["sh"]
        let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(config)) as! [String: Any]
        #expect(object["Hostname"] as? String == "")
        #expect(object["Cmd"] as? [String] == ["sh"])
        #expect(object["Entrypoint"] is NSNull)
        #expect(object["Env"] is NSNull)
        #expect(object["ExposedPorts"] == nil)
        #expect(object["StopSignal"] == nil)
        #expect(object["Healthcheck"] == nil)
    }

    @Test func roundTripsTheCLIBody() throws {
        let request = try Self.decode(Self.cliBody)
        let again = try JSONDecoder().decode(ContainerCreateRequest.self, from: JSONEncoder().encode(request))
        #expect(again.config == request.config)
        #expect(again.hostConfig.Binds == request.hostConfig.Binds)
        #expect(again.hostConfig.Mounts == request.hostConfig.Mounts)
        #expect(again.hostConfig.Ulimits == request.hostConfig.Ulimits)
    }
}
