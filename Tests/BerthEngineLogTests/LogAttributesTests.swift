@testable import BerthEngine
import BerthOCI
import Testing

@Suite struct LogAttributesTests {
    @Test func namedAndMatchingLabelsAndVariables() {
        let attributes = LogAttributes.make(
            options: ["labels": "a,missing", "labels-regex": "^com\\.", "env": "FOO,NOPE", "env-regex": "^X_"],
            labels: ["a": "1", "b": "2", "com.example": "yes"],
            environment: ["FOO=bar", "X_ONE=1", "Y=2", "EMPTY=", "NOEQUALS"])
        #expect(attributes == ["a": "1", "com.example": "yes", "FOO": "bar", "X_ONE": "1"])
        #expect(LogAttributes.make(options: [:], labels: ["a": "1"], environment: ["A=1"]).isEmpty)
    }

    @Test func detailsPrefixIsSortedAndQueryEscaped() {
        #expect(LogAttributes.detailsPrefix(["b": "x,y", "FOO": "bar", "a": "1 2/é~"]) == "FOO=bar,a=1+2%2F%C3%A9~,b=x%2Cy")
        #expect(LogAttributes.detailsPrefix([:]) == "")
    }

    @Test func journalFieldNamesAreSanitizedAsDockerdWritesThem() {
        let fields = LogAttributes.journalFields(["com.example.tier": "web", "_lead": "1", "Foo-Bar": "2", "9lives": "x",
                                                  "container_name": "clash", "image_name": "clash", "": "empty"])
        #expect(fields == ["COM_EXAMPLE_TIER": "web", "LEAD": "1", "FOO_BAR": "2"])
        // Read back, dockerd's entries also show IMAGE_NAME among the attributes.
        #expect(LogAttributes.detailsPrefix(LogAttributes.journalDetails(["tier": "web"], imageName: "busybox:latest"))
            == "IMAGE_NAME=busybox%3Alatest,TIER=web")
    }

    @Test func formatterWritesThePrefixBeforeEachLine() {
        var out: [UInt8] = []
        let formatter = LogFormatter(tty: true, details: true, detailsPrefix: "a=1")
        formatter.append(LogRecord(stream: .stdout, timestamp: LogTimestamp(seconds: 0), line: Array("hi\n".utf8)), to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "a=1 hi\n")
    }
}
