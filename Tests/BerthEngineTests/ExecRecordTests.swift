@testable import BerthEngine
import Foundation
import Testing

@Suite struct ExecRecordTests {
    func record(user: String = "") -> ExecRecord {
        ExecRecord(ContainerID: "c1", ID: "e1", OpenStderr: true, OpenStdin: false, OpenStdout: true,
                   ProcessConfig: .init(tty: false, entrypoint: "true", arguments: [], privileged: false, user: user),
                   env: ["A=1"], workingDir: "/tmp")
    }

    /// dockerd's fields only (none of Berth's own), ExitCode null until the end, and no user
    /// in ProcessConfig when none was asked for.
    @Test func inspectJSONHasDockerdsFields() throws {
        let object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(record())) as? [String: Any])
        #expect(Set(object.keys) == ["ID", "Running", "ExitCode", "ProcessConfig", "OpenStdin", "OpenStderr", "OpenStdout",
                                     "CanRemove", "ContainerID", "DetachKeys", "Pid"])
        #expect(object["ExitCode"] is NSNull)
        let process = try #require(object["ProcessConfig"] as? [String: Any])
        #expect(Set(process.keys) == ["tty", "entrypoint", "arguments", "privileged"])
        let withUser = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(record(user: "nobody"))) as? [String: Any])
        #expect((withUser["ProcessConfig"] as? [String: Any])?["user"] as? String == "nobody")
    }

    @Test func anEndedExecExpiresAfterFiveMinutes() {
        var exec = record()
        exec.started = true
        exec.Running = true
        #expect(!exec.isExpired(now: .max))  // still running: kept
        exec.endedUptime = 1_000
        #expect(!exec.isExpired(now: 1_000 + ExecRecord.endedLifetime))
        #expect(exec.isExpired(now: 1_001 + ExecRecord.endedLifetime))
        #expect(!exec.isExpired(now: 10))  // a clock before the end: kept
    }

    /// A client that creates execs and never starts them must not grow the daemon for as
    /// long as the container runs.
    @Test func aNeverStartedExecExpiresFiveMinutesAfterItsCreation() {
        var exec = record()
        exec.createdUptime = 2_000
        #expect(!exec.isExpired(now: 2_000 + ExecRecord.endedLifetime))
        #expect(exec.isExpired(now: 2_001 + ExecRecord.endedLifetime))
        exec.started = true  // started and still running: kept however old
        #expect(!exec.isExpired(now: .max))
    }
}
