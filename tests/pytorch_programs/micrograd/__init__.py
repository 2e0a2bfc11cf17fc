# karpathy/micrograd's package marker (https://github.com/karpathy/micrograd), MIT License.
