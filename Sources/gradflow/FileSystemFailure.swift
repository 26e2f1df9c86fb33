import FoundationEssentials
import Glibc

/// The reason a FileManager or `write(to:)` call failed, in a message's words: the C library's text for the
/// underlying errno ("Permission denied"), else the CocoaError code. Without Foundation such an error no longer
/// prints as an NSError (`Error Domain=NSCocoaErrorDomain Code=513 …`, its user info in varying order); the
/// callers turn it into a `GradFlowError.fileAccess` naming the path.
enum FileSystemFailure {
    static func reason(_ error: any Error) -> String {
        if let cocoa = error as? CocoaError {
            if let posix = cocoa.userInfo["NSUnderlyingError"] as? POSIXError {
                return String(cString: strerror(posix.code.rawValue))
            }
            return "file system error \(cocoa.code.rawValue)"
        }
        if let posix = error as? POSIXError { return String(cString: strerror(posix.code.rawValue)) }
        return "\(error)"
    }
}
