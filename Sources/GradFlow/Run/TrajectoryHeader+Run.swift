import FoundationEssentials

extension TrajectoryHeader {
    /// The header of a run of `method` with `configuration` on `setup`: the configuration as sorted JSON, the
    /// problem's data and facts, the network, θ(0), the dynamics' and monitors' columns, the monitors' bounds,
    /// and the resume extras of θ(0). Cost: copies of the problem's arrays.
    init(method: String, commandLine: String, configuration: RunConfiguration, setup: RunSetup,
         rowColumns: [TrajectoryColumn], checkpointColumns: [TrajectoryColumn], constants: [ConstantDataset] = [],
         bounds: [(String, AttributeValue)], resumeExtras: [Double], savesWeights: Bool = false) {
        typealias Layout = TrajectoryLayout
        typealias Dimension = Layout.Dimension
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = (try? encoder.encode(configuration)).flatMap { String(data: $0, encoding: .utf8) } ?? "{}"
        let problem = setup.problem, network = setup.network, shape = network.shape, q = problem.outputCount
        let (sample, feature, output) = ("/" + Dimension.sample, "/" + Dimension.feature, "/" + Dimension.output)

        var dimensions: [(String, Int)] = [(Dimension.sample, problem.sampleCount), (Dimension.feature, problem.dimension),
                                           (Dimension.mode, problem.dimension)]
        if q > 1 { dimensions.append((Dimension.output, q)) }
        dimensions += [(Dimension.parameter, shape.parameterCount), (Dimension.layer, shape.depth)]
        if shape.depth > 1 { dimensions.append((Dimension.layerPair, shape.depth - 1)) }

        // Scalar targets keep DESIGN.md's 1-D shapes; multivariate ones are 2-D (y [n, q], w_star = M* [q, d]).
        var datasets = [
            Dataset(Layout.Problem.inputs, problem.inputs, shape: [problem.sampleCount, problem.dimension],
                    longName: "training inputs", dimensions: [sample, feature]),
            Dataset(Layout.Problem.targets, problem.targets, shape: q == 1 ? [problem.sampleCount] : [problem.sampleCount, q],
                    longName: "training targets", dimensions: q == 1 ? [sample] : [sample, output]),
            Dataset(Layout.Problem.solution, problem.minimumNormSolution, shape: q == 1 ? [problem.dimension] : [q, problem.dimension],
                    longName: q == 1 ? "minimum-norm least-squares solution w*" : "minimum-norm least-squares solution M*",
                    dimensions: q == 1 ? [feature] : [output, feature]),
        ]
        if let p = network.projection {
            dimensions.append((Dimension.outputUnit, p.count))
            datasets.append(Dataset(Layout.Problem.projection, p, shape: [p.count], longName: "fixed output projection p",
                                    dimensions: ["/" + Dimension.outputUnit]))
        }
        if let test = problem.test {
            dimensions.append((Dimension.sampleTest, test.count))
            let sampleTest = "/" + Dimension.sampleTest
            datasets.append(Dataset(Layout.Problem.testInputs, test.inputs, shape: [test.count, problem.dimension],
                                    longName: "held-out inputs", dimensions: [sampleTest, feature]))
            datasets.append(Dataset(Layout.Problem.testTargets, test.targets, shape: q == 1 ? [test.count] : [test.count, q],
                                    longName: "held-out targets", dimensions: q == 1 ? [sampleTest] : [sampleTest, output]))
        }
        datasets.append(Dataset(Layout.Problem.covarianceEigenvalues, problem.covarianceEigenvalues, shape: [problem.dimension],
                                longName: "eigenvalues of Σ = XᵀX/n, ascending", dimensions: ["/" + Dimension.mode]))

        // The monitors' constants, on root dimensions of their own unless the file has them.
        for constant in constants {
            for (name, size) in zip(constant.dimensions, constant.shape) where !dimensions.contains(where: { $0.0 == name }) {
                dimensions.append((name, size))
            }
            datasets.append(Dataset(constant.name, constant.values, shape: constant.shape, longName: constant.description,
                                    dimensions: constant.dimensions.map { "/" + $0 }))
        }

        var problemAttributes: [(String, AttributeValue)] = [
            (Layout.Problem.source, .string(problem.source)), (Layout.Problem.sampleCount, .integer(problem.sampleCount)),
            (Layout.Problem.dimension, .integer(problem.dimension)), (Layout.Problem.outputCount, .integer(q)),
            (Layout.Problem.testCount, .integer(problem.test?.count ?? 0)), (Layout.Problem.rank, .integer(problem.rank)),
            (Layout.Problem.minimumRisk, .double(problem.minimumRisk)), (Layout.Problem.lambdaMin, .double(problem.lambdaMin)),
            (Layout.Problem.lambdaMax, .double(problem.lambdaMax)), (Layout.Problem.a, .double(problem.a)),
            (Layout.Problem.solutionNorm, .double(problem.solutionNorm)),
        ]
        if let seed = problem.seed { problemAttributes.append((Layout.Problem.seed, .integer(Int(truncatingIfNeeded: seed)))) }
        var networkAttributes: [(String, AttributeValue)] = [
            (Layout.Network.depth, .integer(shape.depth)), (Layout.Network.widths, .integers(shape.widths)),
            (Layout.Network.kind, .string(network.kind.rawValue)), (Layout.Network.model, .string(network.model.rawValue)),
            (Layout.Network.initialization, .string(setup.initialization.name)),
            (Layout.Network.initializationScale, .double(setup.initialization.scale)), (Layout.Network.layout, .string("row-major")),
            (Layout.Network.parameterCount, .integer(shape.parameterCount)),
        ]
        if let alpha = configuration.scaleExponent { networkAttributes.append((Layout.Network.scaleExponent, .double(alpha))) }
        switch setup.initialization {
        case let .gaussian(_, zeroLayer?): networkAttributes.append((Layout.Network.zeroLayer, .integer(zeroLayer)))
        case let .layerwise(scales): networkAttributes.append((Layout.Network.layerScales, .doubles(scales)))
        case let .spectral(strengths): networkAttributes.append((Layout.Network.modeStrengths, .doubles(strengths)))
        default: break
        }

        self.init(method: method, commandLine: commandLine, configuration: json, dimensions: dimensions, problemDatasets: datasets,
                  problemAttributes: problemAttributes, networkAttributes: networkAttributes, initialWeights: setup.initialWeights,
                  rowColumns: rowColumns.map(Self.column), checkpointColumns: checkpointColumns.map(Self.column),
                  bounds: bounds, resumeExtras: resumeExtras, savesWeights: savesWeights)
    }

    /// A monitor's dataset as the format writes it (on root dimensions of the same names).
    static func dataset(_ constant: ConstantDataset) -> Dataset {
        Dataset(constant.name, constant.values, shape: constant.shape, longName: constant.description,
                dimensions: constant.dimensions.map { "/" + $0 })
    }

    /// A monitor's or a dynamics' column as the format writes it.
    static func column(_ c: TrajectoryColumn) -> Column {
        Column(c.name, width: c.width, dimension: c.axis?.dimensionName(column: c.name),
               longName: c.description.isEmpty ? c.name.replacing("_", with: " ") : c.description)
    }
}
