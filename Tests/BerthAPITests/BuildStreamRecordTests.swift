import Testing
@testable import BerthAPI

/// The build stream's lines, byte for byte as dockerd (v28) writes them.
struct BuildStreamRecordTests {
    func line(_ record: BuildStreamRecord) -> String { String(decoding: record.jsonLine, as: UTF8.self) }

    @Test func textAndImageIDWithGoEscapes() {
        #expect(line(.stream(" ---> 1a2b3c\n")) == #"{"stream":" ---\u003e 1a2b3c\n"}"# + "\r\n")
        #expect(line(.stream("Step 2/3 : RUN echo \"<a&b>\tx\"")) == #"{"stream":"Step 2/3 : RUN echo \"\u003ca\u0026b\u003e\tx\""}"# + "\r\n")
        #expect(line(.imageID("sha256:abc")) == #"{"aux":{"ID":"sha256:abc"}}"# + "\r\n")
    }

    @Test func errorDetailComesBeforeErrorAndAZeroCodeIsLeftOut() {
        let failed = "The command '/bin/sh -c exit 3' returned a non-zero code: 3"
        #expect(line(.error(failed, code: 3)) == #"{"errorDetail":{"code":3,"message":"\#(failed)"},"error":"\#(failed)"}"# + "\r\n")
        #expect(line(.error("no <such> file", code: nil)) == #"{"errorDetail":{"message":"no \u003csuch\u003e file"},"error":"no \u003csuch\u003e file"}"# + "\r\n")
        #expect(line(.error("x", code: 0)) == #"{"errorDetail":{"message":"x"},"error":"x"}"# + "\r\n")
    }
}
