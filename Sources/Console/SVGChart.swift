import Foundation

/// A chart drawn on the server as inline SVG: no script, nothing from another host. This type
/// only places shapes; `Templates/chart.mustache` writes them, so every label is escaped like the
/// rest of the page. Figures are the views' Int64 values; all scaling is done in Double, so no
/// figure, however large or negative, can trap.
struct SVGChart {
    /// The drawing's own units; the SVG is 100% wide and scales them to the screen.
    static let width = 360.0
    static let height = 200.0
    /// Room above the plot for the top axis label, below it for the day labels.
    static let plotTop = 18.0
    static let plotBottom = 178.0

    struct Bar {
        let x: String
        let y: String
        let width: String
        let height: String
        /// The colour's class, `s0` to `s5`, from the stylesheet.
        let series: String
        /// What a pointer over the bar shows: its label and value.
        let title: String
    }

    struct Label {
        let x: String
        let y: String
        let text: String
        /// `start`, `middle` or `end`: where the text sits relative to `x`.
        let anchor: String
    }

    struct Rule {
        let y: String
    }

    struct Key {
        let name: String
        let series: String
    }

    let title: String
    let viewBox: String
    let bars: [Bar]
    let labels: [Label]
    let rules: [Rule]
    let legend: [Key]
    /// Stored, not computed: templates read a value's stored properties only.
    let hasLegend: Bool

    /// One value of a column chart: the slot (day) it belongs to, its series, the figure.
    struct Point {
        let slot: Int
        let series: Int
        let value: Int64
    }

    /// Columns per slot (a day), one per series side by side, over a shared axis from the
    /// lowest figure (or 0) to the highest (or 0). Labels the first, middle and last slot.
    static func columns(title: String, slots: [String], series: [String], points: [Point], format: (Int64) -> String) -> SVGChart {
        let scale = Scale(points.map(\.value))
        let slotWidth = width / Double(max(slots.count, 1))
        let barWidth = slotWidth * 0.8 / Double(max(series.count, 1))
        let bars = points.filter { slots.indices.contains($0.slot) && series.indices.contains($0.series) }.map { point in
            let (top, bottom) = scale.span(point.value)
            return Bar(
                x: number(Double(point.slot) * slotWidth + slotWidth * 0.1 + Double(point.series) * barWidth), y: number(top),
                width: number(barWidth), height: number(bottom - top), series: colour(point.series),
                title: "\(slots[point.slot])\(series.count > 1 ? " · \(series[point.series])" : ""): \(format(point.value))")
        }
        var labels = scale.labels(format)
        let shown = Set([0, slots.count / 2, slots.count - 1]).filter { slots.indices.contains($0) }.sorted()
        for slot in shown {
            let anchor = slot == 0 ? "start" : slot == slots.count - 1 ? "end" : "middle"
            let x = anchor == "start" ? 0 : anchor == "end" ? width : (Double(slot) + 0.5) * slotWidth
            labels.append(Label(x: number(x), y: number(height - 4), text: slots[slot], anchor: anchor))
        }
        return SVGChart(
            title: title, bars: bars, labels: labels, rules: scale.rules,
            legend: series.enumerated().map { Key(name: $1, series: colour($0)) })
    }

    /// One horizontal bar per labelled figure, the label and formatted figure above each bar.
    static func bars(title: String, rows: [(label: String, value: Int64)], format: (Int64) -> String) -> SVGChart {
        let row = 34.0
        let scale = Scale(rows.map(\.value))
        let chartHeight = max(Double(rows.count) * row, row)
        var bars: [Bar] = []
        var labels: [Label] = []
        for (index, entry) in rows.enumerated() {
            let top = Double(index) * row
            let (start, end) = scale.extent(entry.value, across: width)
            bars.append(
                Bar(
                    x: number(start), y: number(top + 16), width: number(end - start), height: "12", series: colour(0),
                    title: "\(entry.label): \(format(entry.value))"))
            labels.append(Label(x: "0", y: number(top + 12), text: entry.label, anchor: "start"))
            labels.append(Label(x: number(width), y: number(top + 12), text: format(entry.value), anchor: "end"))
        }
        return SVGChart(
            title: title, viewBox: "0 0 \(number(width)) \(number(chartHeight))", bars: bars, labels: labels, rules: [], legend: [])
    }

    private init(title: String, viewBox: String? = nil, bars: [Bar], labels: [Label], rules: [Rule], legend: [Key]) {
        self.title = title
        self.viewBox = viewBox ?? "0 0 \(Self.number(Self.width)) \(Self.number(Self.height))"
        self.bars = bars
        self.labels = labels
        self.rules = rules
        self.legend = legend
        self.hasLegend = !legend.isEmpty
    }

    static func colour(_ series: Int) -> String { "s\(series % 6)" }

    /// Coordinates with one decimal: enough for a screen, short in the page.
    static func number(_ value: Double) -> String { String(format: "%.1f", value) }

    /// The axis every figure of a chart shares: from the lowest figure or 0, whichever is lower,
    /// to the highest or 0; a chart of zeros gets a unit axis so nothing divides by zero.
    struct Scale {
        let low: Int64
        let high: Int64
        let lowValue: Double
        let spread: Double

        init(_ values: [Int64]) {
            low = min(values.min() ?? 0, 0)
            high = max(values.max() ?? 0, 0)
            lowValue = Double(low)
            // In Double: Int64.max - Int64.min would trap in Int64.
            spread = max(Double(high) - lowValue, 1)
        }

        /// The fraction of the axis at `value`, 0 at the lowest end.
        func fraction(_ value: Int64) -> Double { (Double(value) - lowValue) / spread }

        /// The height on the plot of `value`.
        func y(_ value: Int64) -> Double { SVGChart.plotBottom - fraction(value) * (SVGChart.plotBottom - SVGChart.plotTop) }

        /// A column's top and bottom on the plot, between `value` and 0.
        func span(_ value: Int64) -> (top: Double, bottom: Double) { (min(y(value), y(0)), max(y(value), y(0))) }

        /// A horizontal bar's left and right end across `length`, between `value` and 0.
        func extent(_ value: Int64, across length: Double) -> (start: Double, end: Double) {
            (min(fraction(value), fraction(0)) * length, max(fraction(value), fraction(0)) * length)
        }

        /// Lines at the top of the axis, at 0 and, below 0, at its bottom.
        var rules: [Rule] {
            [high, 0, low].reduce(into: [Rule]()) { rules, figure in
                let y = SVGChart.number(y(figure))
                if !rules.contains(where: { $0.y == y }) { rules.append(Rule(y: y)) }
            }
        }

        /// The top of the axis and, when the figures go below 0, its bottom, above their lines.
        func labels(_ format: (Int64) -> String) -> [Label] {
            var labels = [Label(x: "0", y: SVGChart.number(SVGChart.plotTop - 4), text: format(high), anchor: "start")]
            if low < 0 {
                labels.append(Label(x: "0", y: SVGChart.number(y(low) - 4), text: format(low), anchor: "start"))
            }
            return labels
        }
    }
}
