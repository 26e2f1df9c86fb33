/// A figure of one or more panels, each a set of lines over (x, y) with optional log axes and horizontal
/// reference lines, rendered to PNG and SVG by gnuplot (`gradflow plot`). Built from any GradFlow file.
public struct Figure: Sendable {
    public struct Series: Sendable {
        public var label: String
        public var x: [Double]
        public var y: [Double]
        /// gnuplot style: `lines`, `linespoints` or `points`.
        public var style: String
        public init(_ label: String, x: [Double], y: [Double], style: String = "lines") {
            self.label = label
            self.x = x
            self.y = y
            self.style = style
        }
    }

    public struct Panel: Sendable {
        public var title: String
        public var xLabel: String
        public var yLabel: String
        public var logX: Bool
        public var logY: Bool
        public var series: [Series]
        /// Horizontal lines (a bound), with their labels.
        public var references: [(label: String, value: Double)]
        public init(title: String, xLabel: String, yLabel: String, logX: Bool = false, logY: Bool = false,
                    series: [Series], references: [(label: String, value: Double)] = []) {
            self.title = title
            self.xLabel = xLabel
            self.yLabel = yLabel
            self.logX = logX
            self.logY = logY
            self.series = series
            self.references = references.filter { $0.value.isFinite }
        }
    }

    public var title: String
    public var panels: [Panel]
    /// The group the figure's data come from (`trajectory`, `comparison`, `sweep table`, `critical-lr table`), for messages.
    public var kind: String

    public init(title: String, panels: [Panel], kind: String = "trajectory") {
        self.title = title
        self.kind = kind
        // Only series with a point the panel's axes can show, and only panels left with one (an incomplete
        // file's empty or mismatched columns would give gnuplot a data file with no valid point).
        self.panels = panels.compactMap { panel in
            var kept = panel
            kept.series = panel.series.filter { series in
                zip(series.x, series.y).contains { x, y in x.isFinite && y.isFinite && (!panel.logX || x > 0) && (!panel.logY || y > 0) }
            }
            return kept.series.isEmpty ? nil : kept
        }
    }

    /// Each `_` followed by ASCII letters and digits with that run in braces (`_min` → `_{min}`), left to right:
    /// the regular expression `_([A-Za-z0-9]+)` → `_{$1}`, on Unicode scalars.
    static func bracingSubscripts(_ s: String) -> String {
        let scalars = Array(s.unicodeScalars)
        var result = String.UnicodeScalarView()
        var i = 0
        while i < scalars.count {
            if scalars[i] == "_" {
                var end = i + 1
                while end < scalars.count, ("A"..."Z").contains(scalars[end]) || ("a"..."z").contains(scalars[end])
                        || ("0"..."9").contains(scalars[end]) {
                    end += 1
                }
                if end > i + 1 {
                    result.append(contentsOf: "_{".unicodeScalars)
                    result.append(contentsOf: scalars[(i + 1)..<end])
                    result.append("}")
                    i = end
                    continue
                }
            }
            result.append(scalars[i])
            i += 1
        }
        return String(result)
    }

    /// The gnuplot script for `terminal` (`pngcairo` or `svg`) writing `output`, with each series' data in
    /// `dataFile(panel, series)` (two whitespace-separated columns; non-positive values dropped on log axes).
    public func script(terminal: String, output: String, dataFile: (Int, Int) -> String) -> String {
        let columns = panels.count > 1 ? 2 : 1, rows = (panels.count + columns - 1) / columns
        let width = 640 * columns, height = 420 * rows
        // Enhanced text: `_x` subscripts one character, so `_min` becomes `_{min}`.
        func quote(_ s: String) -> String {
            "\"" + Self.bracingSubscripts(s).replacing("\"", with: "'") + "\""
        }
        var lines = [
            "set terminal \(terminal) size \(width),\(height)\(terminal == "pngcairo" ? " enhanced font 'Sans,10'" : " enhanced")",
            "set output \(quote(output))",
            "set datafile missing 'NaN'",
            "set key top right font ',8'",
            "set grid",
            "set multiplot layout \(rows),\(columns) title \(quote(title))",
        ]
        for (p, panel) in panels.enumerated() {
            lines += ["unset logscale", "set title \(quote(panel.title))", "set xlabel \(quote(panel.xLabel))",
                      "set ylabel \(quote(panel.yLabel))", "set format y '%g'", "set format x '%g'"]
            if panel.logX { lines.append("set logscale x") }
            if panel.logY { lines.append("set logscale y") }
            var plots: [String] = []
            for (s, series) in panel.series.enumerated() where !series.x.isEmpty {
                plots.append("\(quote(dataFile(p, s))) using 1:2 with \(series.style) lw 2 title \(quote(series.label))")
            }
            for reference in panel.references {
                plots.append("\(reference.value) with lines dt 2 lw 1.5 title \(quote(reference.label))")
            }
            lines.append("plot " + plots.joined(separator: ", \\\n     "))
        }
        lines.append("unset multiplot")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The data of one series as text, dropping points that a log axis cannot show and non-finite ones.
    public func data(panel p: Int, series s: Int) -> String {
        let panel = panels[p], series = panel.series[s]
        var text = ""
        for (x, y) in zip(series.x, series.y) where x.isFinite && y.isFinite && (!panel.logX || x > 0) && (!panel.logY || y > 0) {
            text += "\(x) \(y)\n"
        }
        return text.isEmpty ? "NaN NaN\n" : text
    }
}
