import XCTest
import Foundation
@testable import Binarization

/// The registry is the one place a method is named: every method round-trips
/// through its name, its options and its JSON.
final class MethodTests: XCTestCase {
    func testEveryMethodRoundTripsThroughJSONAndOptions() throws {
        XCTAssertEqual(Set(Method.names).count, Method.registry.count, "names are unique")
        for name in Method.names {
            var m = try XCTUnwrap(Method(named: name))
            XCTAssertEqual(m.name, name)
            XCTAssertTrue(m.problems.isEmpty, "\(name)'s defaults are valid")
            let json = try JSONEncoder().encode(m)
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: json) as? [String: Any])
            XCTAssertEqual(object["name"] as? String, name)
            XCTAssertEqual(try JSONDecoder().decode(Method.self, from: json), m)
            // Every option reads back what it was set to.
            for (option, value) in m.settings {
                try m.set(option, to: value)
                XCTAssertEqual(m.settings.first { $0.name == option }?.value, value)
            }
        }
    }

    func testOptionsAreTypedAndNamed() throws {
        var mos = try XCTUnwrap(Method(named: "mos"))
        try mos.set("experts", to: "8")
        XCTAssertEqual((mos.kind as? BinaryMoS)?.experts, 8)
        XCTAssertEqual(mos, Method(BinaryMoS(experts: 8)))
        XCTAssertNotEqual(mos, Method(BinaryMoS(experts: 4)))
        XCTAssertThrowsError(try mos.set("experts", to: "four")) { XCTAssertTrue("\($0)".contains("--experts 'four'"), "\($0)") }
        XCTAssertThrowsError(try mos.set("salient", to: "0.1")) { XCTAssertTrue("\($0)".contains("mos has no option --salient"), "\($0)") }
        try mos.set("experts", to: "0")
        XCTAssertEqual(mos.problems, ["--experts must be between 1 and 64"])
        var pb = Method(PBLLM())
        try pb.set("saliency", to: "magnitude"); try pb.set("compensation", to: "false")
        XCTAssertEqual(pb, Method(PBLLM(salient: 0.1, saliency: .magnitude, compensation: false)))
        XCTAssertFalse(pb.needsCalibration)
        XCTAssertThrowsError(try pb.set("saliency", to: "random"))
        XCTAssertThrowsError(try JSONDecoder().decode(Method.self, from: Data(#"{"name":"xnor"}"#.utf8)))
    }

    /// Sweep columns are every option any method has, each once, in registry order.
    func testSettingColumnsCoverEveryOption() {
        let columns = Method.settingColumns
        XCTAssertEqual(Set(columns).count, columns.count)
        for type in Method.registry { for (name, _) in Method(type.init()).settings { XCTAssertTrue(columns.contains(name)) } }
        XCTAssertEqual(Array(columns.prefix(4)), ["experts", "salient", "saliency", "compensation"])
    }
}
