import BerthOCI
import Testing
@testable import BerthEngine

/// The `tag` log option, rendered as dockerd renders its template.
struct LogTagTests {
    static let tag = LogTag(containerID: "0123456789ab" + String(repeating: "c", count: 52), containerName: "/web",
                            entrypoint: "sh", args: ["-c", "echo hi"], imageID: "sha256:" + String(repeating: "f", count: 64),
                            imageName: "busybox:latest", logPath: "")

    @Test func fieldsAndMethodsOfTheLoggingInfo() throws {
        let tag = Self.tag
        #expect(try tag.render(nil) == "0123456789ab")
        #expect(try tag.render("") == "0123456789ab")
        #expect(try tag.render("{{.Name}}") == "web")
        #expect(try tag.render("{{.ContainerName}}") == "/web")
        #expect(try tag.render("app/{{.Name}}/{{ .ID }}.log") == "app/web/0123456789ab.log")
        #expect(try tag.render("{{.FullID}}") == tag.containerID)
        #expect(try tag.render("{{.ImageID}}") == "ffffffffffff")
        #expect(try tag.render("{{.ImageFullID}}") == tag.imageID)
        #expect(try tag.render("{{.ImageName}}") == "busybox:latest")
        #expect(try tag.render("{{.Command}}") == "sh -c echo hi")
        #expect(try tag.render("{{.DaemonName}}") == "docker")
        #expect(try tag.render("plain") == "plain")
        #expect(try !tag.render("{{.Hostname}}").isEmpty)
    }

    @Test func whatItCannotRenderIsAnError() {
        #expect(throws: BerthError.invalidArgument(
            "template: log-tag:1:2: executing \"log-tag\" at <.Nope>: can't evaluate field Nope in type *logger.Info")) {
            try Self.tag.render("{{.Nope}}")
        }
        #expect(throws: BerthError.invalidArgument(
            "template: log-tag:1:5: executing \"log-tag\" at <.Nope>: can't evaluate field Nope in type *logger.Info")) {
            try Self.tag.render("x/{{ .Nope }}")
        }
        #expect(throws: BerthError.self) { try Self.tag.render("{{.Name | upper}}") }
        #expect(throws: BerthError.self) { try Self.tag.render("{{.Name") }
    }
}
