/// Every LLaMA weight under one Swift name, with its GGUF name (llama.cpp's `LLM_TENSOR_NAMES`) and
/// its Hugging Face `LlamaForCausalLM` name.
enum LlamaTensorName {
    case tokenEmbedding, outputNorm, output, ropeFrequencies
    case attentionNorm(Int), attentionQ(Int), attentionK(Int), attentionV(Int), attentionOutput(Int)
    case ffnNorm(Int), ffnGate(Int), ffnUp(Int), ffnDown(Int)

    var gguf: String {
        switch self {
        case .tokenEmbedding: "token_embd.weight"
        case .outputNorm: "output_norm.weight"
        case .output: "output.weight"
        case .ropeFrequencies: "rope_freqs.weight"
        case .attentionNorm(let l): "blk.\(l).attn_norm.weight"
        case .attentionQ(let l): "blk.\(l).attn_q.weight"
        case .attentionK(let l): "blk.\(l).attn_k.weight"
        case .attentionV(let l): "blk.\(l).attn_v.weight"
        case .attentionOutput(let l): "blk.\(l).attn_output.weight"
        case .ffnNorm(let l): "blk.\(l).ffn_norm.weight"
        case .ffnGate(let l): "blk.\(l).ffn_gate.weight"
        case .ffnUp(let l): "blk.\(l).ffn_up.weight"
        case .ffnDown(let l): "blk.\(l).ffn_down.weight"
        }
    }

    var huggingFace: String {
        switch self {
        case .tokenEmbedding: "model.embed_tokens.weight"
        case .outputNorm: "model.norm.weight"
        case .output: "lm_head.weight"
        case .ropeFrequencies: "model.rotary_emb.inv_freq"   // never stored in safetensors; computed from config
        case .attentionNorm(let l): "model.layers.\(l).input_layernorm.weight"
        case .attentionQ(let l): "model.layers.\(l).self_attn.q_proj.weight"
        case .attentionK(let l): "model.layers.\(l).self_attn.k_proj.weight"
        case .attentionV(let l): "model.layers.\(l).self_attn.v_proj.weight"
        case .attentionOutput(let l): "model.layers.\(l).self_attn.o_proj.weight"
        case .ffnNorm(let l): "model.layers.\(l).post_attention_layernorm.weight"
        case .ffnGate(let l): "model.layers.\(l).mlp.gate_proj.weight"
        case .ffnUp(let l): "model.layers.\(l).mlp.up_proj.weight"
        case .ffnDown(let l): "model.layers.\(l).mlp.down_proj.weight"
        }
    }
}
